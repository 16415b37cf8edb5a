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
# How are this area's practices grouped, and do its practices refer, cost or staff
# differently from England's practices of the same size? Across England: does size matter,
# and what did joining a group change?

# %% tags=["parameters"]
data_source = "synthetic:england"
area = "ENGLAND"
outcome = "srr"
group_type = "all"
estimator = "callaway_santanna"
control_group = "never_treated"
publish = False
results_path = ""

# %%
from IPython.display import Markdown, display

from helpers import report
from helpers.analysis.scale import OUTCOMES
from helpers.report import federation_scale

ctx = report.start("02_federation_scale", globals())
an = report.analyse(ctx)
display(Markdown(report.header_md(ctx, {"Joining outcome": OUTCOMES[outcome][0],
                                "Groups": group_type})))

# %% [markdown]
# ## Headline

# %%
report.show(federation_scale.headline_text(ctx, an))

# %% [markdown]
# ## About the data

# %%
report.show(report.data_statement(ctx))
report.show(federation_scale.exclusions_text(an))

# %% [markdown]
# ## How this area's practices are grouped
#
# Federations and primary care networks in the area, by number of member practices and
# combined list, with each group's latest outcomes. Leaders often say one lead can engage
# five to eight practices; where the area holds several groups, a chart compares their
# sizes with England's.

# %%
report.show(federation_scale.network_size_figure(ctx, an),
            "No group membership data for this area.")

# %%
report.show(federation_scale.networks_table(ctx, an))
report.show(federation_scale.members_table(ctx, an))

# %% [markdown]
# ## The area's practices against England's size curves

# %%
report.show(federation_scale.curves_intro(ctx, an))
report.show(federation_scale.profile_figure(ctx, an))
report.show(federation_scale.profile_text(ctx, an))

# %%
for y in OUTCOMES:
    report.show(federation_scale.size_curve_figure(ctx, an, y))

# %%
report.show(federation_scale.gaps_table(ctx, an))

# %% [markdown]
# ### England (context): how outcomes change with practice size
#
# The elasticity is the % change in an outcome for a 1% larger list: near zero means size
# makes little difference.

# %%
report.show(federation_scale.elasticity_table(an))

# %% [markdown]
# ## England (context): what joining a group changed
#
# Practices joined groups at different times. The event study compares each joining
# practice with practices that had not (yet) joined, period by period around joining
# (Callaway & Sant'Anna). Estimates before joining should sit near zero; the shaded band
# covers every period at once with 95% confidence. This needs every joining practice in
# England, so it is estimated once nationally.

# %%
report.show(federation_scale.event_study_figure(ctx, an), an.joining_note)
report.show(federation_scale.joining_table(an))

# %% [markdown]
# ## England (context): does group size matter?
#
# The joining effect separately for each size of group that joined in the data (2–4, 5–8, 9 or more practices).

# %%
report.show(federation_scale.bands_figure(ctx, an),
            "Too few joining practices in each size band to compare group sizes.")

# %% [markdown]
# ## Mergers

# %%
report.show(federation_scale.mergers_text(ctx, an))

# %% [markdown]
# ## Methods and caveats
#
# - **Size curves**: a natural cubic spline of log list size fitted to the log outcome, with
#   deprivation, rurality and year, errors clustered by commissioner; shown as the geometric
#   mean at average case-mix in the latest year. The area's gap is the mean of its
#   practices' residuals from that model (each practice against England's prediction for its
#   own size, deprivation, rurality and year), with a t-interval. Cross-sectional: size goes
#   with many unmeasured things.
# - **Joining**: Callaway & Sant'Anna (2021) group-time effects on the log outcome, doubly
#   robust, never-joined (or not-yet-joined) practices as comparison, analytic standard
#   errors, multiplier-bootstrap simultaneous bands. Two-way fixed effects is shown because
#   most evaluations report it; with effects that build up and staggered joining it is biased.
# - **Mergers**: practices that absorbed another against three matched practices of similar
#   size in the same commissioner, change from the year before to the year after.
# - **Data quality**: practice-years with fewer than 1,000 patients or implausible values
#   are left out of the size analyses (counts above).

# %% [markdown]
# ## Validation against the known truth

# %%
report.show(federation_scale.validation_table(ctx, an),
            "Real data: no recorded truth to compare with.")
report.show(federation_scale.validation_text(an))

# %% tags=["remove-cell"]
report.write_results(ctx, federation_scale.results(ctx, an));
