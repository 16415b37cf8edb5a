"""Running notebooks: parameter specs, the batch runner, HTML rendering and report checks."""

import sys

# papermill imports nbformat, whose validator imports jsonschema, which compiles a full IRI
# grammar (rfc3987-syntax, with lark) at import when that optional package is installed:
# 2-4 s of every batch's and every worker's start, for an "iri" format check that notebook
# validation never uses. Blocked here, jsonschema leaves that one format check out.
sys.modules.setdefault("rfc3987_syntax", None)
