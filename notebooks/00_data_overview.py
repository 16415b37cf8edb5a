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
# # Data overview
#
# What the data holds for this area (practices, patients and referrals) and which parts of
# it are real.

# %% tags=["parameters"]
data_source = "synthetic:england"
area = "ENGLAND"
publish = False
results_path = ""

# %%
from IPython.display import Markdown, display

from helpers import report
from helpers.report import overview

ctx = report.start("00_data_overview", globals())
ov = report.analyse(ctx)
display(Markdown(report.header_md(ctx)))

# %% [markdown]
# ## Headline

# %%
report.show(overview.headline_text(ctx, ov))

# %% [markdown]
# ## About the data

# %%
report.show(report.data_statement(ctx))
report.show(overview.tables_table(ctx, ov))

# %% [markdown]
# ## Practice sizes
#
# Most practices have a few thousand to fifteen thousand patients; a long tail of large
# practices is typical of England.

# %%
report.show(overview.list_size_chart(ctx, ov))
report.show(overview.list_size_text(ctx, ov))

# %% [markdown]
# ## Referrals over time
#
# Notebook 01 allows for list size, age and sex before comparing practices.

# %%
report.show(overview.monthly_chart(ctx, ov), "There are no referrals to chart (none recorded, "
            "or every month too small to publish).")
report.show(overview.seasonal_text(ov))
report.show(overview.monthly_text(ctx, ov))

# %% tags=["remove-cell"]
report.write_results(ctx, overview.results(ctx, ov));
