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
# Under payment by results a commissioner pays for each attendance; under a block contract
# it pays the same whatever happens. What would a change in GP referrals save under each
# contract form, who carries the risk of demand moving, and what happened to hospital
# activity when commissioners changed form?

# %% tags=["parameters"]
data_source = "synthetic:england"
area = "ENGLAND"
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
from IPython.display import Markdown, display

from helpers import formats, report
from helpers.report import contract_forms

ctx = report.start("03_contract_forms", globals())
an = report.analyse(ctx)
display(Markdown(report.header_md(ctx, {
    "Provider": "all" if provider == "ALL" else provider,
    "Year": formats.year(an.year),
    "Referral change": formats.pct_change_as_given(change_pct)})))

# %% [markdown]
# ## Headline

# %%
report.show(contract_forms.headline_text(ctx, an))
report.show(contract_forms.headline_table(an))

# %% [markdown]
# ## About the data

# %%
report.show(report.data_statement(ctx))

# %% [markdown]
# ## How each form pays
#
# Payment as activity moves away from plan. Payment by results tracks activity one for one;
# a block is flat; blended and aligned-payment contracts pay a share of price for activity
# off plan; cap and collar is flat within a corridor. The flatter the line, the less a
# commissioner saves from fewer referrals, and the less it pays for more.

# %%
report.show(contract_forms.curves_figure(ctx, an))

# %% [markdown]
# ## The what-if: in-year and full-year
#
# The change starts in the chosen month, so the in-year effect covers only the months to
# March. First attendances follow referrals; follow-ups follow first attendances at each
# specialty's ratio.

# %%
report.show(contract_forms.whatif_figure(ctx, an))
report.show(contract_forms.whatif_table(an, ctx))

# %% [markdown]
# ### Sensitivity
#
# The full-year saving by size of the change, and with each first attendance bringing 20%
# fewer or more follow-ups than observed.

# %%
report.show(contract_forms.sensitivity_table(an),
            "No sensitivity to show: the what-if above has no saving to vary (see the "
            "headline).")

# %% [markdown]
# ## Who carries the risk
#
# Demand is uncertain. Simulating the year from the observed month-to-month variation in
# activity shows how much the commissioner's spend and the provider's margin could swing
# under each form. Risk does not disappear; the contract decides who holds it.

# %%
report.show(contract_forms.risk_figure(ctx, an))
report.show(contract_forms.risk_table(ctx, an))

# %% [markdown]
# ## What switching form did
#
# Commissioners that moved from payment by results to another form, compared with those
# that did not (staggered difference-in-differences, Callaway & Sant'Anna), and an
# interrupted time series of each switch.

# %%
report.show(contract_forms.did_text(an))
report.show(contract_forms.did_table(an))
for fig in contract_forms.did_figures(ctx, an):
    report.show(fig)

# %%
for fig in contract_forms.its_figures(ctx, an):
    report.show(fig)
report.show(contract_forms.its_note(ctx, an))
report.show(contract_forms.its_table(an))

# %% [markdown]
# ## Methods and caveats
#
# - **Payment engine**: each form's payment from plan, prices and activity, with published
#   parameters (blended 20% variable, aligned payment 75% above plan, cap and collar ±5%).
#   The plan is the baseline year's activity at its own prices.
# - **What-if** assumes first attendances move one for one with referrals and follow-ups
#   with first attendances; providers may respond (for example by filling freed capacity),
#   which this mechanical model leaves out.
# - **Risk** simulates independent monthly shocks with the observed spread, including
#   seasonal swings; it shows who holds the risk, not a forecast.
# - **Switch evaluation**: staggered difference-in-differences on the log ratio (doubly
#   robust, never-switching commissioners as comparison, analytic standard errors); with few
#   switchers per cohort, intervals rest on few commissioners. Interrupted time series:
#   quasi-Poisson with seasonal harmonics and Newey–West errors.

# %% [markdown]
# ## Validation against the known truth

# %%
report.show(contract_forms.validation_table(ctx, an),
            "No recorded truth to compare with (real data, or no switch that could be "
            "evaluated).")
report.show(contract_forms.validation_text(an))

# %% tags=["remove-cell"]
report.write_results(ctx, contract_forms.results(ctx, an));
