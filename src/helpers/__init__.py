"""Commissioning analysis pack: the tested helpers behind the parameterised notebooks.

Layers (each imports only from those above it; map in ``docs/architecture.md``):

- core: ``paths``, ``atomic``, ``schema`` (the data contract), ``datasets``, ``cache``,
  ``validate``
- ``stats``: rates, funnels, SPC, variance partition, ITS, payments, disclosure control
- ``sources``: synthetic England, published NHS files, the real structure, extracts, fetch
- ``analysis``: areas, referrals, scale effects, contract forms
- ``catalogue`` and ``run.params``: the notebook registry and parameter checks
- ``report``: report set-up and one module per notebook, charts, tables, text
- ``run``: grids, the batch runner, workers and kernels, checks, rendering, the index
"""

__version__ = "0.1.0"
