# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: kernelspec,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Contract forms: what cutting referrals saves, and who carries the risk
#
# Under payment by results a commissioner pays for each attendance; under a block contract it pays the same whatever happens. This report shows what a change in GP referrals would save under each contract form, who carries the risk of demand moving, and what happened to hospital activity when commissioners switched form.

# %% tags=["parameters"]
data_source = "synthetic:england"
commissioner = "ENGLAND"
provider = "ALL"
forms = ["pbr", "block", "blended", "cap_collar", "api", "cost_volume"]
change_pct = -10.0
start_month = 10
specialties = []
outliers_only = False
year = 0
window_months = 24
publish = False
results_path = ""

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from helpers import report
from helpers.report import charts, contract_forms

ctx = report.start("03_contract_forms", globals())
an = contract_forms.analyse(ctx)
display(Markdown(f"**Area:** {ctx.area_name} · **Provider:** {provider} · **Year:** "
                 f"{an.year}/{str(an.year + 1)[-2:]} · **Data:** {ctx.source_line}"))
display(Markdown(ctx.data_statement()))

# %% [markdown]
# ## Headline

# %%
display(Markdown(contract_forms.headline_text(ctx, an)))
contract_forms.headline_table(an).set_index('Contract form')

# %% [markdown]
# ## How each form pays
#
# Payment as activity moves away from plan. Payment by results tracks activity one for one; a block is flat; blended and aligned-payment contracts pay a share of price for activity off plan; cap and collar is flat within a corridor. The flatter the line, the less a commissioner saves from fewer referrals — and the less it pays for more.

# %%
from helpers.analysis.contract_forms import FORM_LABELS

c = an.curves
charts.lines_chart(c["activity_share_of_plan"] * 100,
                   {FORM_LABELS[f]: c[f] * 100 for f in forms if f in c},
                   f"Payment against activity by contract form, {ctx.area_name}",
                   "Activity (% of plan)", "Payment (% of planned value)", ctx.source_line);

# %% [markdown]
# ## The what-if: in-year and full-year
#
# The change starts in the chosen month, so the in-year effect covers only the months to March. First attendances follow referrals; follow-ups follow first attendances at each specialty's ratio.

# %%
w = an.whatif
charts.bar_chart(w.label + " (" + w.span + ")",
                 w.commissioner_saving_gbp / 1e3,
                 f"Commissioner saving from a {change_pct:+g}% referral change, {ctx.area_name}",
                 "Saving to the commissioner (£ thousands)", "Contract form", ctx.source_line)
contract_forms.whatif_table(an)

# %% [markdown]
# ### Sensitivity
#
# Full-year saving (£) by size of the change and by how many follow-ups each first attendance brings (scale on the observed ratios).

# %%
an.sensitivity.round(0)

# %% [markdown]
# ## Who carries the risk
#
# Demand is uncertain. Simulating the year from the observed month-to-month variation in activity shows how much the commissioner's spend and the provider's margin could swing under each form. Risk does not disappear; the contract decides who holds it.

# %%
r = an.risk
charts.bar_chart(r.label, r.commissioner_share_of_risk * 100,
                 f"Commissioner's share of demand risk by contract form, {ctx.area_name}",
                 "Share of the spread carried by the commissioner (%)", "Contract form",
                 ctx.source_line)
contract_forms.risk_table(an)

# %% [markdown]
# ## What switching form did
#
# Commissioners that moved from payment by results to a block or blended contract, compared with those that did not (staggered difference-in-differences, Callaway & Sant'Anna), and, for this commissioner if it switched, an interrupted time series of its own activity.

# %%
display(Markdown(contract_forms.did_text(an))) if contract_forms.did_text(an) else None
display(contract_forms.did_table(an)) if an.did else None
truth = ctx.ds.truth["contract_switches"] if ctx.ds.truth else None
for d in an.did:
    if d["outcome"] != "firsts":
        continue
    t = truth["effect_firsts_per_referral"][d["to_form"]] if truth else None
    charts.event_study_chart(d["event_study"],
                             f"First attendances per referral after switching to {d['to_form']}",
                             ctx.source_line, "Effect (log ratio vs comparison)", t)

# %%
shown = [r for r in an.its if r["outcome"] == "firsts"][:3]
for r in shown:
    charts.its_chart(r["series"], r["month"],
                     f"{r['commissioner_code']}: first attendances per referral around the "
                     f"switch to {r['to_form']}", ctx.source_line,
                     "First attendances per GP referral (ratio)")
if not shown:
    display(Markdown("This commissioner did not change contract form in the period; the "
                     "national comparison above shows what switching did elsewhere."))
else:
    display(pd.DataFrame([{k: r[k] for k in ("commissioner_code", "to_form", "outcome",
                                             "rate_ratio", "ci_low", "ci_high")}
                          for r in an.its]).round(4))

# %% [markdown]
# ## Methods and caveats
#
# - **Payment engine**: each form's payment from plan, prices and activity, with published
#   parameters (blended 20% variable, API 75% above plan, cap and collar ±5%). The plan is the
#   baseline year's activity at its own prices.
# - **What-if** assumes first attendances move one for one with referrals and follow-ups with
#   first attendances; providers may respond (for example by filling freed capacity), which
#   this mechanical model does not include.
# - **Risk** simulates independent monthly shocks with the observed spread, including seasonal
#   swings; it shows who holds the risk, not a forecast.
# - **Switch evaluation**: staggered difference-in-differences on the log ratio (doubly
#   robust, never-switching commissioners as controls, analytic standard errors); with few
#   switchers per cohort, intervals rest on few commissioners. Interrupted time series:
#   quasi-Poisson with seasonal harmonics and Newey–West errors.

# %% [markdown]
# ## Validation against the known truth

# %%
v = contract_forms.validation_table(ctx, an)
v if v is not None else display(Markdown("Real data: no recorded truth to compare with."))

# %% tags=["remove-cell"]
report.write_results(ctx, contract_forms.results(ctx, an));
