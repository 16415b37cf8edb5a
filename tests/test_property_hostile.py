"""Property: arbitrary hostile text planted in every string field of a small dataset (the
names of practices, networks, commissioners, sub-areas, specialties and providers, a
practice's code within the contract's rules, and every provenance field) reaches no file
of the run as live markup: no element or attribute that came from data, no event handler,
no script or network address from data, in any page, executed notebook (its HTML and
Markdown outputs as Jupyter would render them) or area page; and no CSV cell a spreadsheet
would run as a formula. Every report still renders (a name is text: it cannot set a report
aside).

Hypothesis draws the text from fragments built to break each context (HTML, attributes,
Markdown links and autolinks, ``</script>`` inside JSON, formulas, control characters), so
a few derandomised examples of one or two reports each cover them (about a minute)."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from test_degenerate import _only
from test_hostile import formula_cells

from helpers.datasets import save_dataset
from helpers.run import batch
from helpers.schema import CODE_MAX_LENGTH

MARK = "zqx"
"""In every planted fragment that could become markup, so markup from data is told from the
pack's own by name."""
FRAGMENTS = [
    f"<img src=x onerror={MARK}(1)>", f"<script>{MARK}(2)</script>",
    f"</script><{MARK}tag {MARK}attr=1>", f'<a href="javascript:{MARK}(3)">j</a>',
    f"[{MARK}](http://{MARK}.example/a)", f"http://{MARK}.example/b",
    f"<https://{MARK}.example/c>", f'=HYPERLINK("http://{MARK}","y")', "+1+cmd|' /C calc'!A0",
    "-2+3", "@SUM(1)", "\tTAB", "\rCR", "\"quote'", "$x$", "\u2028", "&amp;", "{{x}}",
    f"<svg onload={MARK}(4)>", f'" onmouseover="{MARK}(5)', "**b** _i_ `c` # h", "|a|b|",
    f"<!-- {MARK} -->", f"<style>*{{background:url(//{MARK}.example)}}</style>", "%s %(x)s",
    f"data:text/html,<{MARK}tag>", f"<{MARK}tag/>", "\\", "--", "&#x3c;b&#x3e;",
]
hostile = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4).map(" ".join)
code_text = st.text("ABCXYZabc0123456789 ._/-", min_size=1,
                    max_size=CODE_MAX_LENGTH - 1).filter(
    lambda c: re.search(r"[A-Za-z0-9]", c.strip()) is not None)
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset"}


class _Markup(HTMLParser):
    """Every element and attribute of a page that came from data (named with the mark, an
    event handler, a script or network address holding it)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if MARK in tag:
            self.found.append(f"element <{tag}>")
        for name, value in attrs:
            value = value or ""
            if MARK in name or name.startswith("on"):
                self.found.append(f"attribute <{tag} {name}={value[:40]!r}>")
            elif name in URL_ATTRS and (MARK in value or re.match(
                    r"\s*(?:javascript|vbscript|data:text/html)", value, re.I)) and \
                    re.match(r"\s*[a-z]+:|\s*//", value, re.I):
                self.found.append(f"address <{tag} {name}={value[:60]!r}>")

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        if MARK in data:
            self.found.append("comment from data")


def live_from_data(html: str) -> list[str]:
    p = _Markup()
    p.feed(html)
    p.close()
    return p.found


def csv_downloads(html: str) -> list[str]:
    return [base64.b64decode(m).decode("utf-8") for m in
            re.findall(r'href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)"', html)]


def _plant(t: dict, names: list[str], code: str, victim: str) -> dict:
    """Hostile names in every name column; ``code`` for the victim practice everywhere."""
    it = iter(names * 10)
    for table, col in [("practices", "practice_name"), ("groups", "group_name"),
                       ("commissioners", "commissioner_name"), ("sub_areas", "sub_area_name"),
                       ("specialties", "specialty_name"), ("providers", "provider_name"),
                       ("commissioners", "region")]:
        df = t[table]
        df[col] = [f"{v} {next(it)}" for v in df[col].astype(str)]
    for table in ("practices", "population", "groups", "referrals", "practice_outcomes"):
        df = t[table]
        for col in ("practice_code", "successor_code"):
            if col in df:
                df[col] = df[col].astype("string").replace(victim, code)
    return t


@settings(max_examples=1, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(names=st.lists(hostile, min_size=3, max_size=3), prov=st.lists(hostile, min_size=4,
                                                                      max_size=4),
       code=code_text)
@example(names=[" ".join(FRAGMENTS[:4]), " ".join(FRAGMENTS[4:8]), " ".join(FRAGMENTS[8:12])],
         prov=[" ".join(FRAGMENTS[12:16]), " ".join(FRAGMENTS[:4]), " ".join(FRAGMENTS[:6]),
               " ".join(FRAGMENTS[18:24])], code="a.1 B/2-c_3")
def test_hostile_text_in_any_field_reaches_no_file_as_live_markup(small, tmp_path_factory,
                                                                   names, prov, code):
    g = small.groups
    net = str(g["group_code"].iloc[0])
    keep = set(g.loc[g["group_code"].astype(str) == net, "practice_code"].astype(str))
    victim = sorted(keep)[0]
    code = "Z" + code.strip()                  # unique among the practices' codes
    t = _plant(_only(small.tables, keep), names, code, victim)
    root = tmp_path_factory.mktemp("hostile")
    save_dataset(t, root / "data", provenance={
        "source": prov[0], "statement": prov[1], "real_tables": [prov[2]],
        "synthetic_tables": [prov[3], "referrals"]})
    grid = root / "grid.yaml"
    grid.write_text(yaml.safe_dump({"data_source": str(root / "data"), "publish": True,
                                    "areas": [code], "notebooks": ["00_data_overview",
                                                                   "01_referral_variation"]}))
    _, out = batch.run(grid, jobs_n=1, out_root=root / "reports", timeout=300)
    manifest = json.loads((out / "manifest.json").read_text())
    # no report is set aside for what its data strings hold (a name is text), and every
    # report agrees with the oracle on a dataset cut to a few practices
    assert all(r["status"] == "ok" for r in manifest["reports"]), [
        (r["report_id"], r["error"][:400]) for r in manifest["reports"]]
    files = [p for p in (root / "reports").rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files)
    n_csv = 0
    for f in files:
        if f.suffix == ".html":
            html = f.read_text(encoding="utf-8")
            assert live_from_data(html) == [], (f.name, live_from_data(html)[:5])
            for text in csv_downloads(html):
                n_csv += 1
                assert formula_cells(text) == [], (f.name, formula_cells(text)[:5])
        elif f.suffix == ".ipynb":
            nb = json.loads(f.read_text(encoding="utf-8"))
            for cell in nb["cells"]:
                for o in cell.get("outputs", []):
                    data = o.get("data", {})
                    shown = "".join(data.get("text/html", "")) + markdown2html_mistune(
                        "".join(data.get("text/markdown", "")))
                    assert live_from_data(shown) == [], (f.name, live_from_data(shown)[:5])
        elif f.suffix == ".csv":
            n_csv += 1
            assert formula_cells(f.read_text(encoding="utf-8")) == [], f.name
    assert n_csv > 0                          # the pages' tables were checked


pytestmark = pytest.mark.slow
