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
# # Federation scale effects
#
# Practices are grouping into federations and networks to work at scale. Do larger practices and groups refer, cost or perform differently; what does joining a group change; and does the size of the group matter?

# %% tags=["parameters"]
data_source = "synthetic:england"
commissioner = "ENGLAND"
outcome = "srr"
group_type = "all"
estimator = "callaway_santanna"
control_group = "never_treated"
publish = False
results_path = ""

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from helpers import report
from helpers.analysis.scale import OUTCOMES
from helpers.report import charts, federation_scale

ctx = report.start("02_federation_scale", globals())
an = federation_scale.analyse(ctx)
display(Markdown(f"**Area:** {ctx.area_name} · **Outcome:** {OUTCOMES[outcome][0]} · "
                 f"**Data:** {ctx.source_line}"))
display(Markdown(ctx.data_statement()))

# %% [markdown]
# ## Headline

# %%
display(Markdown(federation_scale.headline_text(ctx, an)))

# %% [markdown]
# ## How practices and groups are sized here
#
# Groups by number of member practices, with their typical combined list size.

# %%
from helpers.stats import sdc

sdc.protect(an.group_summary, ["groups"], publish=ctx.publish) if len(an.group_summary) \
    else display(Markdown("No group membership data for this area."))

# %% [markdown]
# ### Outcomes by group size (England, latest year)
#
# Mean of each outcome, with its 95% interval, by how many practices a practice's group has and by the group's combined list size.

# %%
gc = an.group_curves
if len(gc):
    srr = gc[(gc["outcome"] == OUTCOMES["srr"][0]) &
             (gc["group size measure"] == "practices in group")]
    charts.bar_chart(["2-4 practices", "5-8 practices", "9+ practices"][:len(srr)],
                     srr["mean"], "Standardised referral ratio by group size, England",
                     "Mean ratio, observed / expected", "Practices in the group",
                     ctx.source_line)
    display(gc.drop(columns=["sd"]).round(3))

# %% [markdown]
# ## Size curves
#
# Each outcome against practice list size: the dots are averages within size bands for this area (with 95% intervals); the line is England's curve adjusted for deprivation, rurality and year. Elasticities summarise the slope: the % change in the outcome for a 1% larger list.

# %%
for y, curve in an.curves.items():
    label, unit = OUTCOMES[y]
    b = an.bins[y]
    fig = charts.lines_chart(curve["x"], {"England, adjusted curve": curve["fit"],
                                          "95% interval": curve["lower"],
                                          "": curve["upper"]},
                             f"{label} by practice list size, {ctx.area_name}",
                             "Registered patients (log scale)", unit, ctx.source_line)
    ax = fig.axes[0]
    ax.set_xscale("log")
    ax.errorbar(b["x_mid"], b["mean"], yerr=[b["mean"] - b["lower"], b["upper"] - b["mean"]],
                fmt="o", color=charts.DARK, ms=4, label="Area, banded means")
    ax.legend(fontsize=8)
federation_scale.elasticity_table(an)

# %% [markdown]
# ## What joining a group changed
#
# Practices joined groups at different times. The event study compares each joining practice with practices that had not (yet) joined, quarter by quarter around joining (Callaway & Sant'Anna). Estimates before joining should sit near zero; the shaded band covers all quarters at once with 95% confidence.

# %%
if an.joining:
    es = an.joining["event_study"].rename(columns={"event_quarter": "event_month"})
    t = an.truth_att["by_event"] if an.truth_att else None
    fig = charts.event_study_chart(
        es.assign(lower=es["band_lower"], upper=es["band_upper"]),
        f"Change in {OUTCOMES[outcome][0].lower()} after joining a group",
        ctx.source_line, "Effect (log ratio vs comparison practices)")
    fig.axes[0].set_xlabel("Periods since joining (quarters; years for yearly outcomes)")
    if t is not None:
        fig.axes[0].plot(t.index, t.values, color=charts.RED, ls="--", lw=1,
                         label="True effect (synthetic)")
        fig.axes[0].legend(fontsize=8)
    tw = an.twfe
    display(Markdown(
        f"Overall effect: **{an.joining['att']:+.4f}** (log scale; 95% CI "
        f"{an.joining['lower']:+.4f} to {an.joining['upper']:+.4f}). Two-way fixed effects: "
        f"**{tw['att']:+.4f}** ({tw['lower']:+.4f} to {tw['upper']:+.4f}). Pre-trend check "
        f"(simultaneous band covers zero before joining): "
        f"**{'passed' if an.joining['no_pretrend_by_band'] else 'failed'}**."))
else:
    display(Markdown("No practices joined a group in this data."))

# %% [markdown]
# ## Does group size matter?
#
# The joining effect separately for groups of 2–4, 5–8 and 9 or more practices, and for small, medium and large practices.

# %%
if len(an.bands):
    charts.bar_chart(an.bands["size_band"], (np.exp(an.bands["att"]) - 1) * 100,
                     "Effect of joining by group size", "Change after joining (%)",
                     "Practices in the group", ctx.source_line)
    display(an.bands.round(4))
if len(an.practice_sizes):
    display(an.practice_sizes.round(4))

# %% [markdown]
# ## Mergers
#
# Practices that absorbed a closing practice, against three matched practices in the same commissioner with similar list sizes: change in the standardised referral ratio from the year before to the year after.

# %%
m = an.mergers
display(Markdown(f"Across England, {m['n_mergers']} mergers; difference in change (log scale): "
                 f"**{m['effect']:+.4f}** (95% bootstrap interval {m['lower']:+.4f} to "
                 f"{m['upper']:+.4f})." if m["n_mergers"] else "No mergers to compare."))

# %% [markdown]
# ## Methods and caveats
#
# - **Size curves**: OLS of the outcome on a natural cubic spline of log list size with
#   deprivation, rurality and year, errors clustered by commissioner; elasticities from log–log
#   regressions. Cross-sectional: size goes with many unmeasured things.
# - **Joining**: Callaway & Sant'Anna (2021) group-time effects on the log standardised
#   referral ratio, doubly robust, never-joined (or not-yet-joined) practices as comparison,
#   analytic standard errors, multiplier-bootstrap simultaneous bands. Two-way fixed effects is
#   shown because it is what most evaluations report; with effects that build up over time and
#   staggered joining it is biased.
# - **Mergers**: a simple matched before/after comparison, not a causal design.

# %% [markdown]
# ## Validation against the known truth

# %%
v = federation_scale.validation_table(ctx, an)
v if v is not None else display(Markdown("Real data: no recorded truth to compare with."))

# %% tags=["remove-cell"]
report.write_results(ctx, federation_scale.results(ctx, an));
