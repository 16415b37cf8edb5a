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
# What the dataset holds for this area: practices, patients and referrals, and which parts are real.

# %% tags=["parameters"]
data_source = "synthetic:england"
commissioner = "ENGLAND"
publish = False
results_path = ""

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from helpers import report
from helpers.report import charts, overview

ctx = report.start("00_data_overview", globals())
display(Markdown(f"**Area:** {ctx.area_name} · **Data:** {ctx.source_line}"))
display(Markdown(ctx.data_statement()))

# %% [markdown]
# ## Headline

# %%
h = overview.headline(ctx)
display(Markdown(overview.headline_text(ctx, h)))

# %% [markdown]
# ## Tables in the dataset
#
# Rows for this area in each table of the data contract.

# %%
overview.summary(ctx)

# %% [markdown]
# ## Practice sizes
#
# Most practices have a few thousand to fifteen thousand patients; a long tail of large practices is typical of England.

# %%
overview.list_size_chart(ctx);

# %% [markdown]
# ## Referrals over time
#
# Monthly totals dip in August and December every year; notebook 01 adjusts for list size, age and sex before comparing practices.

# %%
overview.monthly_chart(ctx);

# %% tags=["remove-cell"]
report.write_results(ctx, {"headline": h});
