"""Commissioning analysis pack: shared helpers for the parameterised notebooks.

Modules (each small and named for what it does):

- ``paths``       project-root paths (never the working directory)
- ``contract``    the data contract: table specs and validation with clear errors
- ``io``          atomic writes, loading a validated dataset, content hashes
- ``synthetic``   the deterministic synthetic England and its recorded truth
- ``rates``       crude, directly and indirectly standardised rates with intervals
- ``funnels``     funnel-plot limits, over-dispersion (Spiegelhalter 2005), outlier flags
- ``spc``         XmR charts with Making Data Count rules
- ``variation``   variance partition (Poisson GLMM) and moment estimators
- ``payments``    contract-form payment engine
- ``charts``      house chart style, titles and source lines
- ``sdc``         statistical disclosure control for publish mode
- ``params``      notebook parameter validation
- ``batch``       batch execution and HTML rendering of the report grid
"""

__version__ = "0.1.0"
