"""Presentation: what readers see of an analysis (sentences, formatted tables, charts).

A notebook calls :func:`start`, then :func:`analyse`, then its report module (one per
notebook: ``overview``, ``referral_variation``, ``federation_scale``, ``contract_forms``),
showing each section with :func:`show`, and ends with :func:`write_results`. Report modules
format, word and draw what ``helpers.analysis`` computed; they compute nothing themselves.
"""

from helpers.report.page import data_statement, header_md, source_line
from helpers.report.session import analyse, show, start, write_results

__all__ = ["analyse", "data_statement", "header_md", "show", "source_line", "start",
           "write_results"]
