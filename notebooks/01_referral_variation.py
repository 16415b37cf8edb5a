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
# How far do our practices' referral rates differ, how much of that is age, sex and chance,
# and which practices and specialties stand out beyond it?

# %% tags=["parameters"]
data_source = "synthetic:england"
area = "ENGLAND"
years = []
specialty = "ALL"
comparator = "england"
standardise = "age_sex"
limit = 99.8
overdispersion = "robust"
publish = False
results_path = ""

# %%
from IPython.display import Markdown, display

from helpers import formats, report
from helpers.report import referral_variation

ctx = report.start("01_referral_variation", globals())
an = report.analyse(ctx)
h = an.headline
display(Markdown(report.header_md(ctx, {
    "Specialty": "all" if specialty == "ALL" else specialty,
    "Compared with": referral_variation.COMPARATORS[comparator],
    "Years": formats.period(an.years)})))

# %% [markdown]
# ## Headline

# %%
report.show(referral_variation.headline_text(ctx, an, h))

# %% [markdown]
# ## Against the areas it sits in
#
# The area's referral ratio beside those of the areas it belongs to (and, for a practice,
# the practices most like it), each with its 95% interval: the range chance alone allows.
# Whether a practice stands out among practices is one rule on this page: outside the
# funnel's limits, which also allow for the normal spread between practices (see "Which
# practices stand out"). A practice's profile then sets each of its referral ratios against
# the spread of England's practices, by that same rule.

# %%
report.show(referral_variation.comparison_figure(ctx, an),
            "England is the comparator for every other area.")
report.show(referral_variation.comparison_table(ctx, an))
report.show(referral_variation.profile_figure(ctx, an))
report.show(referral_variation.profile_text(ctx, an))

# %% [markdown]
# ## About the data

# %%
report.show(report.data_statement(ctx))

# %% [markdown]
# ## Crude and standardised rates
#
# A practice with many older patients will refer more. Standardising compares each
# practice with what England's rates by age and sex would predict for its own patients, so
# the differences that remain are about the practice, not its population. Points below the
# diagonal are practices whose crude rate is high mainly because of their patients' ages.

# %%
report.show(referral_variation.crude_chart(ctx, an),
            "Too few practices in this area to show the spread between them.")

# %% [markdown]
# ## Which practices stand out

# %%
report.show(referral_variation.funnel_intro(ctx, an))
report.show(referral_variation.funnel_figure(ctx, an),
            "No practice here has a ratio that can be shown: each has no referrals "
            "recorded, or too few to publish (1 to 7).")

# %%
report.show(referral_variation.outlier_table(ctx, an), "No practice in this area is outside the limits.")

# %% [markdown]
# ## Practices ranked

# %%
report.show(referral_variation.ranked_intro(ctx, an))
report.show(referral_variation.ranked_figure(ctx, an),
            "Too few practices in this area to rank.")

# %%
report.show(referral_variation.practices_table(ctx, an))

# %% [markdown]
# ## How much of the variation is real
#
# A multilevel model splits the variation in referral ratios between chance, the
# commissioner, the network and the practice, and shows how much deprivation, list size and
# chronic disease explain. It is estimated once for England.

# %%
report.show(referral_variation.partition_text(an))
report.show(referral_variation.partition_table(an))

# %% [markdown]
# ## Which specialties drive the variation

# %%
report.show(referral_variation.specialty_figure(ctx, an),
            "No specialty has referrals above the upper limit in this area.")

# %%
report.show(referral_variation.specialty_table_html(ctx, an))

# %% [markdown]
# ### Main specialties over time
#
# The specialties the area refers to most, year by year: whether its referrals to each are
# rising or falling.

# %%
report.show(referral_variation.specialties_over_time_text(ctx, an))
report.show(referral_variation.specialties_over_time_table(ctx, an))

# %% [markdown]
# ## Is it changing?
#
# The monthly standardised referral rate with statistical process control limits.

# %%
report.show(referral_variation.spc_figure(ctx, an))
report.show(referral_variation.spc_text(an))
report.show(referral_variation.deciles_figure(ctx, an))
report.show(referral_variation.deciles_text(ctx, an))

# %% [markdown]
# ## Opportunity
#
# Referrals a year, and their value in £ (at tariff prices, or at NHS reference costs where
# the data's prices are those), if the practices above the upper limit came down to it.
# Whether money is actually saved depends on the hospital contract (notebook 03).

# %%
report.show(referral_variation.opportunity_table(ctx, an),
            "No practice is above the upper limit, so there is no opportunity of this kind.")
report.show(referral_variation.similar_text(ctx, an))
report.show(referral_variation.similar_named_table(ctx, an))
report.show(referral_variation.similar_table(ctx, an))

# %% [markdown]
# ## Methods and caveats
#
# - **Standardisation**: indirect, by sex and 5-year age band (optionally also deprivation
#   quintile); expected counts are scaled so that England's ratio is 1 over the same years.
#   Intervals are exact Poisson below 10 events and Byar's above (PHE conventions).
# - **Funnel limits**: Spiegelhalter (2005) on the log scale. The spread between practices is
#   estimated from the middle 80% of practices; the default "robust" option corrects that
#   estimate for the trimming, which otherwise flags too many ordinary practices.
# - **Variance partition**: nested random intercepts (commissioner, network, practice) on the
#   log standardised ratio, with the Poisson sampling variance as the chance component.
# - **Opportunity** assumes referrals avoided are truly avoidable: the funnel says where to
#   look, not why. Coding and list quality explain some outliers.
# - **Publish mode**: counts of people and events from 1 to 7 are suppressed and the rest
#   rounded to the nearest 5; ratios and £ are worked out from the rounded counts. Counts of
#   practices are shown exactly.

# %% [markdown]
# ## Validation against the known truth
#
# On synthetic data the true effects are recorded, so the analysis can show it recovers
# them.

# %%
report.show(referral_variation.validation_table(ctx, an), "Real data: no recorded truth to compare with.")
report.show(referral_variation.validation_text(an))

# %% tags=["remove-cell"]
report.write_results(ctx, referral_variation.results(ctx, an, h));
