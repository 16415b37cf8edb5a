"""Commissioning analysis pack: the tested helpers behind the parameterised notebooks.

Layers (each imports only from those above it; map in ``docs/architecture.md``):

- core: ``paths``, ``atomic``, ``schema`` (the data contract), ``datasets``, ``cache``,
  ``params``, ``catalogue`` (the notebook registry), ``formats``, ``estimate``, ``validate``
- ``stats``: rates, funnels, SPC, variance partition, ITS, staggered DiD, payments,
  disclosure control
- ``sources``: synthetic England, published NHS files, the real structure, extracts, fetch
- ``analysis``: the area context; areas, referrals, scale effects, contracts; one module per
  notebook computing every figure its report shows
- ``report``: presentation only (sentences, formatted tables, charts), one module per notebook
- ``run``: grids, the batch runner, workers and kernels, checks, rendering, the index
"""

__version__ = "0.1.0"
