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
# # Referral variation
#
# Our practices' referral rates differ several-fold. How much of that is age, sex, deprivation and chance; which practices and specialties stand out beyond it; is it changing; and what would bringing the outliers in be worth?

# %% tags=["parameters"]
data_source = "synthetic:england"
commissioner = "ENGLAND"
years = []
specialty = "ALL"
comparator = "england"
standardise = "age_sex"
limit = 99.8
overdispersion = "robust"
publish = False
results_path = ""

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from helpers import report
from helpers.report import charts, referral_variation

ctx = report.start("01_referral_variation", globals())
an = referral_variation.analyse(ctx)
h = referral_variation.headline(ctx, an)
display(Markdown(f"**Area:** {ctx.area_name} · **Specialty:** {specialty} · "
                 f"**Comparator:** {comparator} · **Data:** {ctx.source_line}"))
display(Markdown(ctx.data_statement()))

# %% [markdown]
# ## Headline findings

# %%
display(Markdown(referral_variation.headline_text(ctx, an, h)))

# %% [markdown]
# ## Crude and standardised rates
#
# A practice with many older patients will refer more. Standardising compares each practice with what England's rates by age and sex would predict for its own patients, so the remaining differences are about the practice, not its population.

# %%
charts.scatter_chart(an.area["crude_rate"], an.area["standardised_rate"],
                     f"Crude against standardised referral rate, {ctx.area_name}",
                     "Crude rate (referrals per 1,000 patients per year)",
                     "Standardised rate (per 1,000 patients per year)", ctx.source_line);

# %% [markdown]
# ## Funnel plot: which practices stand out
#
# Each dot is a practice. Small practices scatter more by chance, so the limits widen to the left. Limits are widened for the normal spread between practices (over-dispersion), so a practice outside the 99.8% limits is unusual even among practices — worth a closer look, not a verdict.

# %%
pts = an.area.rename(columns={"practice_code": "group", "expected": "denominator",
                               "ratio": "rr"})
charts.funnel_chart(pts, an.curve, f"Referral ratio by practice, {ctx.area_name}",
                    ctx.source_line);

# %%
referral_variation.outlier_table(ctx, an)

# %% [markdown]
# ## Ranked practices with their uncertainty
#
# The same ratios ranked, each with its 95% interval. Red practices refer significantly more than expected, orange less.

# %%
charts.caterpillar_chart(an.area, f"Practices ranked by referral ratio, {ctx.area_name}",
                         ctx.source_line);

# %% [markdown]
# ## How much of the variation is real
#
# A multilevel model splits the variation in referral ratios between chance, the commissioner, the network and the practice, and shows how much deprivation, list size and chronic disease explain.

# %%
display(Markdown(referral_variation.partition_text(an)))
referral_variation.partition_table(an)

# %% [markdown]
# ## Which specialties drive the variation

# %%
sp = an.specialties.head(12)
charts.bar_chart(sp["specialty_name"], sp["excess_above_limit"],
                 f"Referrals above the upper limit by specialty, {ctx.area_name}",
                 "Referrals above the 99.8% limit (count)", "Specialty", ctx.source_line);

# %%
from helpers.stats import sdc

sdc.protect(an.specialties[["specialty_name", "observed", "ratio", "n_high", "n_low",
                            "sd_beyond_chance", "excess_above_limit"]],
            ["observed", "excess_above_limit", "n_high", "n_low"],
            {"observed": ["ratio"]}, ctx.publish).round(3)

# %% [markdown]
# ## Is it changing? (statistical process control)
#
# Monthly standardised referral rate with process limits. Points marked as special cause follow the NHS Making Data Count rules: outside the limits, a run of seven rising or falling, two of three near a limit, or seven on one side of the mean.

# %%
charts.spc_chart(an.spc_points, f"Monthly standardised referral rate, {ctx.area_name}",
                 ctx.source_line,
                 "Observed / expected" if an.extras["series_is_ratio"]
                 else "Standardised referrals per 1,000 patients per year")
display(Markdown(f"Latest variation type: **{an.spc_summary['variation_type'].iloc[-1].replace('_', ' ')}**."))

# %% [markdown]
# ## Opportunity
#
# Referrals, and their value at tariff prices, if practices above the upper limit came down to it, or every practice above the median came to the median. Whether money is actually saved depends on the hospital contract (notebook 03).

# %%
opp = an.area.sort_values("excess_to_limit", ascending=False).head(15)
sdc.protect(opp[["practice_code", "practice_name", "observed", "ratio", "excess_to_limit",
                 "saving_to_limit_gbp", "excess_to_median", "saving_to_median_gbp"]],
            ["observed", "excess_to_limit", "excess_to_median"],
            {"observed": ["ratio"], "excess_to_limit": ["saving_to_limit_gbp"],
             "excess_to_median": ["saving_to_median_gbp"]}, ctx.publish).round(2)

# %% [markdown]
# ## Methods and caveats
#
# - **Standardisation**: indirect, by sex and 5-year age band against national rates
#   (optionally also deprivation quintile); intervals are exact Poisson below 10 events and
#   Byar's above (PHE conventions).
# - **Funnel limits**: Spiegelhalter (2005) on the log scale. Over-dispersion is estimated
#   from the middle 80% of practices; the default "robust" option corrects that trimmed estimate
#   for the trimming, because the uncorrected (FunnelPlotR) estimate is biased low when
#   practices genuinely differ a lot and then flags too many ordinary practices.
# - **Variance partition**: nested random intercepts (commissioner, network, practice) on the
#   log standardised ratio, with the Poisson sampling variance as the chance component.
# - **Opportunity** assumes referrals avoided are truly avoidable; the funnel says where to look,
#   not why. Data quality (coding, list inflation) explains some outliers.
# - In publish mode, counts of 1–7 are suppressed and other counts rounded to the nearest 5.

# %% [markdown]
# ## Validation against the known truth
#
# On synthetic data the true effects are recorded, so the analysis can show it recovers them.

# %%
v = referral_variation.validation_table(ctx, an)
v if v is not None else display(Markdown("Real data: no recorded truth to compare with."))

# %% tags=["remove-cell"]
report.write_results(ctx, referral_variation.results(ctx, an, h));
