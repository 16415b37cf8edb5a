"""The definitions page and the term links: every term defined once, each term's first
use on a page linked to it by a relative link that resolves from every page's folder, and
never inside a link, heading, table header, navigation, footer, SVG, script, style or the
head; the pass only adds links (the escaping, the visible text and the lint's findings
are those of the page before)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.run import definitions, site
from helpers.run.checks import lint, visible_text
from helpers.run.definitions import PAGE, TERMS, link_terms

_LINK = re.compile(r'<a href="(?:\.\./)?definitions\.html#([\w-]+)">([^<]*)</a>')


def _unlinked(page: str) -> str:
    return _LINK.sub(r"\2", page)


def _links(page: str) -> list[tuple[str, str]]:
    return _LINK.findall(page)


def test_every_term_is_defined_once_with_what_it_means_for_a_commissioner():
    anchors = [t.anchor for t in TERMS]
    assert len(anchors) == len(set(anchors))
    phrases = [p.lower() for t in TERMS for p in t.phrases]
    assert len(phrases) == len(set(phrases))            # a phrase means one term
    for t in TERMS:
        assert t.meaning.endswith((".", ")")) and t.for_commissioner.endswith((".", ")"))
        assert re.fullmatch(r"[a-z0-9-]+", t.anchor)
    wanted = ["standardised referral ratio", "expected referrals", "indirect standardisation",
              "over-dispersion", "99.8%", "funnel plot", "confidence interval", "fte",
              "weighted patient", "carr-hill", "list size", "pcn", "federation", "icb", "ccg",
              "similar 10", "publish mode", "suppression", "synthetic", "block", "tariff",
              "blended", "cap and collar", "aligned payment", "outcome-based",
              "interrupted time series", "difference-in-differences", "staggered adoption"]
    named = " ".join(f"{t.name} {t.meaning}".lower() for t in TERMS)
    assert [w for w in wanted if w not in named] == []


def test_the_definitions_page_is_self_contained_and_accessible(tmp_path):
    path = definitions.write_page(tmp_path)
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert page.count("<h1>") == 1 and "<main>" in page and "<script" not in page
    assert not re.search(r"(?:href|src)=\"(?:https?:)?//", page)
    for t in TERMS:
        assert page.count(f'id="{t.anchor}"') == 1
        assert page.count(f'href="#{t.anchor}"') == 1
    assert "Sant&#x27;Anna" in page                        # escaped once, not twice


def test_only_the_first_use_of_each_term_is_linked_and_longer_phrases_win():
    page = ("<p>The standardised referral ratio and its funnel plot. Another funnel plot; "
            "the referral ratio again.</p><p>A staggered difference-in-differences, then "
            "staggered adoption.</p>")
    got = link_terms(page)
    assert _links(got) == [("standardised-ratio", "standardised referral ratio"),
                           ("funnel-plot", "funnel plot"),
                           ("did", "staggered difference-in-differences")]
    assert _unlinked(got) == page
    assert 'href="../definitions.html#funnel-plot"' in got
    assert 'href="definitions.html#funnel-plot"' in link_terms(page, "")


def test_no_link_inside_links_headings_headers_navigation_footer_svg_script_or_head():
    quiet = ('<html><head><title>funnel plot</title><style>.funnel plot{}</style></head>'
             '<body><nav>funnel plot</nav><h2>The funnel plot</h2><a href="x">funnel plot'
             "</a><table><thead><tr><th>Funnel plot</th></tr></thead></table>"
             "<table><caption>funnel plot</caption></table>"
             '<svg><text>funnel plot</text><style>a>b{}</style></svg>'
             '<script>var s = "<b>funnel plot</b>";</script><!-- funnel plot -->'
             '<img alt="funnel plot" title="a > funnel plot">'
             '<code>funnel plot</code><footer>funnel plot</footer>'
             '<span class="meta no-terms">(KeyError: funnel plot <b>x</b> funnel plot)</span>')
    assert link_terms(quiet + "</body></html>") == quiet + "</body></html>"
    got = link_terms(quiet + "<p>Then a funnel plot.</p></body></html>")
    assert _links(got) == [("funnel-plot", "funnel plot")]
    assert got.index("definitions.html") > got.index("<p>Then")


def test_names_and_title_case_are_not_uses_of_a_term():
    page = ("<p>Kent Primary Care Network and Network 3 sit in Synthetic ICB 01 network "
            "group.</p><p>Its network is small. Network sizes vary.</p>")
    got = link_terms(page, names=["Synthetic ICB 01 network group"])
    assert _links(got) == [("network", "network")]
    assert got.index("definitions.html") > got.index("Its <a")
    # a name with no term in it guards nothing: "England" beside "synthetic England"
    assert _links(link_terms("<p>from a synthetic England</p>", names=["England"])) == \
        [("synthetic-data", "synthetic England")]
    # capitalised at the start of a sentence or text, it is a use
    assert _links(link_terms("<li>Funnel limits</li>")) == [("funnel-plot", "Funnel")]
    assert _links(link_terms("<p>x. Funnel limits</p>")) == [("funnel-plot", "Funnel")]
    assert _links(link_terms("<p>The Funnel Trust</p>")) == []


def test_escaped_data_strings_stay_escaped():
    page = ("<p>&lt;script&gt;alert(1)&lt;/script&gt; funnel plot &amp; "
            "&lt;b&gt;tariff&lt;/b&gt; ICB</p>")
    got = link_terms(page, names=["<script>alert(1)</script>"])
    assert _unlinked(got) == page
    assert "<script>" not in got and "<b>" not in got
    assert _links(got) == [("funnel-plot", "funnel plot"), ("tariff", "tariff")]


SNIPPETS = ["<p>", "</p>", "<h2>", "</h2>", "<a href='x'>", "</a>", "<th>", "</th>", "<td>",
            "</td>", "<svg>", "</svg>", "<script>", "</script>", "<br>", "<img alt=\"a>b\">",
            "<!-- x -->", "funnel plot", "Funnel plot", "over-dispersion", "the ", ". ",
            "&amp;", "&lt;", "99.8% limits", "network", "Network 2", "FTE", "tariff", "ITS",
            "its", "£5k", "−3%", "\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SNIPPETS), max_size=40))
def test_the_pass_only_adds_links_to_the_definitions(parts):
    page = "".join(parts)
    got = link_terms(page)
    assert _unlinked(got) == page
    anchors = [a for a, _ in _links(got)]
    assert len(anchors) == len(set(anchors))
    assert link_terms(got) == got or _unlinked(link_terms(got)) == page


def _report(body: str) -> str:
    return (f'<!DOCTYPE html><html><head><title>r</title></head><body><nav class="pack-nav">'
            f'<a href="../areas/q01.html">Q01</a></nav>{body}'
            "<footer>data hash · publish mode</footer></body></html>")


def test_the_lint_and_the_visible_text_are_those_of_the_page_before():
    body = ("<p>The ratio is nan against the 99.8% limits (over-dispersion allowed) and "
            "−0.0% of the tariff; 1.2 (95% CI 1.0 to 1.0).</p>"
            "<table><tr><th>Referrals a year</th></tr><tr><td>−5</td></tr>"
            "<tr><td>publish mode</td></tr></table>")
    before = _report(body)
    after = link_terms(before)
    assert len(_links(after)) == 4
    found = lint({"cells": []}, before)
    assert len(found) == 4                  # nan, −0.0, a flat interval, a negative count
    # the same findings (each quotes the text around it, where a link adds a space)
    assert [f.split(": …")[0] for f in lint({"cells": []}, after)] == \
        [f.split(": …")[0] for f in found]
    assert "".join(visible_text(after).split()) == "".join(visible_text(before).split())


def test_links_resolve_from_every_folder_and_cost_little(tmp_path):
    definitions.write_page(tmp_path)
    body = "".join(f"<p>A use of {t.phrases[0]} here.</p>" for t in TERMS)
    for folder in ("01_referral_variation", "areas"):
        (tmp_path / folder).mkdir()
        page = link_terms(_report(body))
        (tmp_path / folder / "x.html").write_text(page)
        assert len(_links(page)) == len(TERMS)
        extra = len(page.encode()) - len(_report(body).encode())
        assert extra <= 50 * len(TERMS)           # about 40 bytes a term
    (tmp_path / "index.html").write_text("<p>index</p>")
    (tmp_path / "areas" / "q01.html").write_text("<p>q01</p>")
    assert site.broken_links(tmp_path) == []


def test_a_closed_practices_successor_is_linked_on_its_report_page():
    nav = {"up": [], "names": ["Practice P81045"],
           "successor": ("P81030", "../areas/p81030.html")}
    page = ("<p><strong>Closed April 2017; its patients moved to P81030</strong></p>"
            "<p>its patients moved to P81030</p>")
    got = site.link_page(page, nav)
    assert got.count('<a href="../areas/p81030.html">P81030</a>') == 1
    assert got.index("areas/p81030") < got.index("</strong>")
    assert site.link_page(page, {}) == page                 # a report outside a site
    assert PAGE == site.DEFINITIONS
