"""Report wording: safe data strings and plurals (numbers are written by
:mod:`helpers.formats`, the same in text, tables, charts and the index).

Every string that comes from data (area, practice, network and provider names and codes)
passes through :func:`md` before it reaches report prose, so a name such as
``<script>alert(1)</script>ICB`` is shown as text and cannot inject HTML or Markdown.
"""

from __future__ import annotations

import html
import re

from helpers import formats

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~:-])")
"""Markdown's punctuation, backslash-escaped; ':' too, so an address in a name
('http://…') is not made a link by the renderer's autolinking: a name is text."""


def md(value: object) -> str:
    """A data string made safe for Markdown prose: Markdown-escaped, then HTML-escaped."""
    text = _MD_SPECIAL.sub(r"\\\1", str(value).replace("\n", " "))
    return html.escape(text, quote=False).replace("$", "&#36;")


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 practice', '3 practices' (``many`` defaults to ``one`` + 's');
    :func:`helpers.formats.plural`. For 'no practices' and 'all 3 practices' see
    :func:`helpers.formats.how_many` and :func:`helpers.formats.all_of`."""
    return formats.plural(n, one, many)


how_many = formats.how_many
and_list = formats.and_list
all_of = formats.all_of
capital = formats.capital
