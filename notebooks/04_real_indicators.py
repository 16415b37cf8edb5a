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
# # Real indicators
#
# Published, real practice-level figures for this area: A&E attendances of children aged
# 0-4 (OHID Fingertips, 2021/22) and QOF disease registers (2020/21), analysed with the
# pack's own methods. Nothing on this page is synthetic.

# %% tags=["parameters"]
data_source = "synthetic:england"
area = "ENGLAND"
publish = False
results_path = ""

# %%
from IPython.display import Markdown, display

from helpers import report
from helpers.report import real_indicators

ctx = report.start("04_real_indicators", globals())
an = report.analyse(ctx)
display(Markdown(real_indicators.header_md(ctx)))

# %% [markdown]
# ## Headline

# %%
report.show(real_indicators.headline_text(ctx, an))

# %% [markdown]
# ## About the data

# %%
report.show(real_indicators.data_statement(ctx, an))

# %% [markdown]
# ## The area's real indicators
#
# Each indicator's count, the people it is out of, the rate with its 95% interval, and
# England's practices together.

# %%
report.show(real_indicators.values_table(ctx, an))
report.show(real_indicators.standing_text(ctx, an))

# %% [markdown]
# ## Against England's practices
#
# Each row is an indicator, as a ratio to England's value: the bands are the spread of
# England's practices, the dot this area.

# %%
report.show(real_indicators.spine_chart(ctx, an), real_indicators.instead(ctx, an, "spine"))

# %% [markdown]
# ## Funnel: A&E attendances of children aged 0–4
#
# Small practices vary more by chance than large ones; the funnel's limits widen for them.

# %%
report.show(real_indicators.funnel_chart(ctx, an), real_indicators.instead(ctx, an, "funnel"))
report.show(real_indicators.funnel_text(ctx, an))

# %% [markdown]
# ## Practices beyond the limits

# %%
report.show(real_indicators.outliers_table(ctx, an))

# %% [markdown]
# ## Practice size

# %%
report.show(real_indicators.size_chart(ctx, an))
report.show(real_indicators.size_text(ctx, an))

# %% tags=["remove-cell"]
report.write_results(ctx, real_indicators.results(ctx, an));
