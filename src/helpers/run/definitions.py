"""The pack's terms in plain English, written once: the site's definitions page and the
links from each term's first use on a page to its definition.

:data:`TERMS` holds every term: its anchor on the page, its name, the phrases that count as
a use of it, what it means and what it means for a commissioner. :func:`write_page` writes
``definitions.html`` in a run folder (self-contained, one heading per term, no script);
:func:`link_terms` is the post-render pass that links the first use of each term on a
report or area page to its definition, so notebooks need not change.

The pass reads the page as a sequence of tags and text and changes only text: never
inside a link, heading, table header, navigation bar, footer, SVG, script, style, form
control, the page's head or an element of class ``no-terms``, so no attribute, escaped string or chart changes. A page gains
one link per term it uses, about 45 bytes each: 4 to 11 links and 180 to 513 bytes on a
report of the small preset (0.7% of a 26 kB page at most), 2 or 3 links on an area page;
the pass takes about 20 ms on a 400 kB page.

Standard library only, so the batch's workers can use it without pandas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path

from helpers.atomic import write_text_atomic

PAGE = "definitions.html"
"""The definitions page's path within a run folder."""


@dataclass(frozen=True)
class Term:
    """One term: ``anchor`` (the id on the page), ``name``, the phrases that are a use of
    it (whole words, as written or capitalised at a sentence's start), what it means and
    what it means for a commissioner."""

    anchor: str
    name: str
    phrases: tuple[str, ...]
    meaning: str
    for_commissioner: str


TERMS: tuple[Term, ...] = (
    Term("standardised-ratio", "Standardised referral ratio",
         ("standardised referral ratios", "standardised referral ratio",
          "standardised ratios", "standardised ratio", "referral ratios", "referral ratio"),
         "A practice's referrals divided by the referrals expected of it (see expected "
         "referrals). 1.00 means it refers as many patients as England's rates for people "
         "of the same age and sex would predict; 1.20 means 20% more; 0.80 means 20% fewer.",
         "A ratio far from 1 is a question to ask, not a verdict: the patients may differ in "
         "ways the data cannot see. Read it with its limits (see funnel plot)."),
    Term("expected-referrals", "Expected referrals",
         ("expected referrals",),
         "The referrals an area would make if each of its patients were referred at "
         "England's rate for people of their sex and five-year age band (and, where a "
         "report says so, their deprivation), added up over its list and the months it was "
         "open.",
         "The yardstick the standardised ratio compares with: it allows for who the patients "
         "are, so a practice with older patients is not marked high for that."),
    Term("indirect-standardisation", "Indirect standardisation",
         ("indirect standardisation", "indirectly standardised"),
         "The method behind expected referrals: England's rates for each group of patients "
         "applied to the area's own mix of patients. It suits small areas, whose own rates "
         "by group would be too noisy to use.",
         "Two practices' standardised ratios each compare the practice with England; they "
         "are not a direct comparison of the two practices with each other."),
    Term("over-dispersion", "Over-dispersion",
         ("over-dispersion", "over-dispersed", "overdispersion"),
         "More spread between practices than chance alone would give, because practices "
         "differ in many small ways no data set records. The pack measures it across "
         "England and widens the control limits by it (Spiegelhalter's method, as Public "
         "Health England's Fingertips does).",
         "Without it, most large practices would look unusual; with it, a practice outside "
         "the limits stands out even from the ordinary differences between practices."),
    Term("control-limits", "95% and 99.8% control limits",
         ("99.8% control limits", "95% control limits", "99.8% funnel limits",
          "95% funnel limits", "99.8% limits", "99.8% limit", "95% limits", "95% limit",
          "control limits"),
         "The band within which an area's ratio would fall by chance, given its size: about "
         "19 in 20 areas fall inside the 95% limits and 998 in 1,000 inside the 99.8% limits "
         "when nothing unusual is going on.",
         "Outside the 99.8% limits is strong evidence of a real difference; outside only the "
         "95% limits is worth watching but happens to 1 area in 20 by chance."),
    Term("funnel-plot", "Funnel plot",
         ("funnel plots", "funnel plot", "funnel"),
         "A chart of each area's ratio against its size (its expected referrals), with the "
         "control limits drawn as a funnel: wide for small areas, whose ratios vary more by "
         "chance, and narrow for large ones.",
         "It stops small practices being ranked top or bottom of a league table by chance; "
         "look for points outside the funnel, not for the highest or lowest point."),
    Term("confidence-interval", "Confidence interval",
         ("confidence intervals", "confidence interval"),
         "The range of values consistent with the data: a 95% interval is built so that "
         "19 times in 20 it contains the true value. Wide intervals mean the data say "
         "little.",
         "If the interval includes no change (0%, or a ratio of 1), the data cannot rule "
         "out that nothing happened."),
    Term("fte", "FTE (full-time equivalent)",
         ("full-time equivalents", "full-time equivalent", "FTE"),
         "Staff hours counted in full-time posts: two GPs each working half time are 1.0 "
         "GP FTE. Locums and trainees are left out.",
         "GP FTE per 1,000 patients compares workforce between practices of different "
         "sizes."),
    Term("weighted-patient", "Weighted patient (Carr-Hill)",
         ("weighted patients", "weighted patient", "Carr-Hill"),
         "A practice's list size adjusted by the Carr-Hill formula for the workload its "
         "patients bring (age, sex, morbidity, new registrations, rurality, staff costs); "
         "core general practice funding follows it.",
         "Payments per weighted patient compare funding between practices with different "
         "patients on a fair footing."),
    Term("list-size", "List size",
         ("registered patients", "list sizes", "list size"),
         "The number of patients registered with a practice. A network's or "
         "commissioner's list is the sum of its practices' lists.",
         "Every rate in the pack is per registered patient, so list size is the "
         "denominator of each comparison."),
    Term("network", "Network, PCN and federation",
         ("primary care networks", "primary care network", "networks", "network"),
         "A group of practices working together: a primary care network (PCN, from 2019, "
         "usually 30,000 to 50,000 patients) or a federation. A practice in no network is "
         "listed on its commissioner's page on its own, under practices in no network.",
         "A network is the level between the commissioner and its practices; several "
         "figures are compared across networks and within them."),
    Term("commissioner", "Commissioner (ICB or CCG)",
         ("integrated care boards", "integrated care board", "clinical commissioning groups",
          "clinical commissioning group", "commissioners", "commissioner"),
         "The NHS body that plans and buys hospital and community care for an area: an "
         "integrated care board (ICB) since July 2022, a clinical commissioning group (CCG) "
         "before.",
         "The commissioner holds the contracts with hospitals, so it carries the cost of "
         "referrals under most contract forms."),
    Term("similar-10", "Similar 10",
         ("similar 10", "similar-10", "RightCare"),
         "The 10 practices in England most like a practice in age profile, deprivation, "
         "rurality and list size, found as NHS RightCare finds them.",
         "Comparing with practices like it answers \"could we do what they do?\" better "
         "than comparing with England as a whole."),
    Term("publish-mode", "Publish mode and suppression",
         ("publish mode", "suppressed", "suppression"),
         "Disclosure control for reports that leave the organisation: every count from 1 to "
         "7 is suppressed (not shown), every other count rounded to the nearest 5, and any "
         "figure that would let a suppressed count be worked back is suppressed too.",
         "Figures on a published page may differ slightly from your own systems' by the "
         "rounding; a blank or \"suppressed\" is a small number, not a zero."),
    Term("synthetic-data", "Synthetic and real data",
         ("synthetic data", "synthetic England", "real data"),
         "Each page's badge says what it shows. Synthetic data are generated to behave like "
         "England's, with their true effects recorded, so the methods can be checked; real "
         "data are published NHS files. A real structure with synthetic referrals uses real "
         "practices, lists and networks with simulated referrals, and names no real "
         "practice beside a referral figure.",
         "Only a page badged real data says anything about real practices' referrals."),
    Term("block-contract", "Block contract",
         ("block contracts", "block contract", "block"),
         "A fixed sum for a year's care, whatever the activity.",
         "Fewer referrals save nothing in the year; the provider carries the risk of more "
         "demand."),
    Term("tariff", "Tariff (payment by results)",
         ("payment by results", "tariff"),
         "A fixed national price for each attendance or procedure, paid for every one.",
         "Each referral avoided saves its price; the commissioner carries the risk of more "
         "demand."),
    Term("blended-payment", "Blended payment",
         ("blended payments", "blended payment", "blended"),
         "A fixed part for planned activity plus a share of the price (for example 20%) for "
         "activity above or below plan.",
         "Demand risk is shared: a referral avoided saves only the variable share of its "
         "price."),
    Term("cap-and-collar", "Cap and collar",
         ("cap-and-collar", "cap and collar"),
         "The planned sum is paid while activity stays within a corridor around plan (for "
         "example ±5%); beyond the corridor, activity is paid, or refunded, at its price.",
         "Small changes in referrals change nothing; larger ones change the payment only "
         "beyond the corridor."),
    Term("cost-and-volume", "Cost and volume",
         ("cost and volume", "cost-and-volume"),
         "Activity paid at its price up to the value of the planned volume, and nothing "
         "above it.",
         "Fewer referrals save their price; activity above plan costs the commissioner "
         "nothing more, so the provider carries that demand."),
    Term("aligned-payment", "Aligned payment and incentive",
         ("aligned payment and incentive", "aligned payments", "aligned payment"),
         "The NHS payment scheme from 2022/23: a fixed element for planned activity and a "
         "variable element (for example 75% of price) for elective activity above plan.",
         "Activity above plan costs most of its price; activity below plan saves nothing "
         "unless the contract claws a share back."),
    Term("outcome-based", "Outcome-based contract",
         ("outcome-based contracts", "outcome-based contract", "outcome-based"),
         "A payment with a bonus or penalty tied to an outcome measure reaching a target.",
         "It pays for results rather than activity; the measure must be one the provider can "
         "change."),
    Term("its", "Interrupted time series (ITS)",
         ("interrupted time series", "ITS"),
         "A trend before a change projected forward and compared with what happened after "
         "it; the gap estimates the change's effect.",
         "Believable when nothing else changed at the same moment; compare with areas that "
         "did not change (see difference-in-differences)."),
    Term("did", "Difference-in-differences and staggered adoption",
         ("staggered difference-in-differences", "difference-in-differences",
          "staggered adoption", "staggered"),
         "The change in areas that made a change minus the change, over the same time, in "
         "areas that did not. With staggered adoption (areas changing in different years) "
         "each year's changers are compared only with areas not yet changed (Callaway and "
         "Sant'Anna's method).",
         "It removes what happened everywhere at once, such as a national trend, from the "
         "estimated effect."),
    Term("twfe", "Two-way fixed effects",
         ("two-way fixed effects", "two-way fixed-effects", "TWFE"),
         "The older regression for staggered changes (area and year effects). When effects "
         "grow over time it compares late changers with early ones and can be biased; the "
         "pack shows it beside the staggered estimate for that reason.",
         "Where the two disagree, trust the staggered estimate."),
)
"""Every term, in the order the definitions page lists them."""


def _pattern(terms: tuple[Term, ...]) -> tuple[re.Pattern, dict[str, Term]]:
    """One pattern for every phrase (longest first, so a longer phrase wins), and the term
    of each phrase. A phrase matches as written or with its first letter a capital (at the
    start of a sentence, :func:`_link_text` checks), so a name in title case ("Kent Primary
    Care Network") is not a use; a word followed by a number is part of a name ("Network
    3") either way."""
    of: dict[str, Term] = {}
    alts = []
    for t in terms:
        for p in t.phrases:
            of[p] = of[_capital(p)] = t
            forms = dict.fromkeys((p, _capital(p)))
            alts.append((len(p), "|".join(re.escape(f) for f in forms)))
    alts.sort(key=lambda a: -a[0])
    return re.compile(r"(?<![\w-])(?:" + "|".join(a for _, a in alts) + r")(?![\w-])"), of


def _capital(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


_PHRASES, _TERM_OF = _pattern(TERMS)
_NUMBER = re.compile(r"\s+\d")
"""After a word, a number makes a name ("Network 3"), not a use of the term."""
_SENTENCE_START = re.compile(r"(?:^|[.!?:(]|&#182;)\s*$")
"""Before a capitalised use of a phrase written in lower case: the start of its text (a
list item, a bold lead-in, a cell) or of a sentence."""
SKIP = frozenset({"a", "h1", "h2", "h3", "h4", "h5", "h6", "th", "thead", "nav", "footer",
                  "svg", "script", "style", "head", "title", "button", "label", "select",
                  "option", "textarea", "code", "pre", "summary", "caption", "figcaption"})
"""Elements whose text never gets a term link."""
NO_TERMS = "no-terms"
"""A class that keeps an element's text free of term links (an error message quoted)."""
_RAW = ("script", "style", "svg", "textarea", "title", "head")
"""Skipped elements read to their end tag at once (their content is not parsed as tags)."""
_TAG = re.compile(r"""<(/?)([a-zA-Z][\w:-]*)(?:[^>"']|"[^"]*"|'[^']*')*?(/?)>|<!--.*?-->"""
                  r"|<![^>]*>", re.S)
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "wbr", "source", "area",
                   "col", "embed", "param", "track"})


def link_terms(page: str, base: str = "../", names: Iterable[str] = ()) -> str:
    """``page`` with the first use of each term in its text linked to its definition
    (``base`` leads from the page's folder to the run folder). Headings, links, table
    headers, navigation, footer, SVG, scripts, styles and the head are left as they are,
    and so is any of ``names`` (area names, which may contain a term: "Synthetic ICB 01
    network") wherever it stands."""
    protect = sorted({escape(n, quote=False) for n in names if n and _PHRASES.search(n)},
                     key=len, reverse=True)      # only names with a term in them
    guard = re.compile("|".join(re.escape(n) for n in protect)) if protect else None
    out: list[str] = []
    done: set[str] = set()
    skip: list[str] = []                 # open skipped elements, innermost last
    pos = 0
    low = page.lower()
    while pos < len(page):
        m = _TAG.search(page, pos)
        end = m.start() if m else len(page)
        if end > pos:
            text = page[pos:end]
            out.append(text if skip or len(done) == len(TERMS) else
                       _link_text(text, base, done, guard))
        if not m:
            break
        out.append(m.group(0))
        pos = m.end()
        name = (m.group(2) or "").lower()
        if not name:                     # a comment or declaration
            continue
        if m.group(1):                   # an end tag
            if skip and skip[-1] == name:
                skip.pop()
            continue
        if name in _RAW and not m.group(3):
            close = low.find(f"</{name}", pos)
            close = len(page) if close < 0 else close
            out.append(page[pos:close])
            pos = close
        elif (name in SKIP or NO_TERMS in m.group(0)) and not m.group(3) \
                and name not in _VOID:
            skip.append(name)
    return "".join(out)


def _link_text(text: str, base: str, done: set[str], guard: re.Pattern | None) -> str:
    """A text node with the first use of each term not yet linked on the page linked,
    outside the spans ``guard`` matches."""
    kept = [m.span() for m in guard.finditer(text)] if guard else []

    def one(m: re.Match) -> str:
        term = _TERM_OF[m.group(0)]
        said = m.group(0)
        if term.anchor in done or any(a < m.end() and m.start() < b for a, b in kept) \
                or (said not in term.phrases and not _SENTENCE_START.search(text, 0, m.start())) \
                or (said[0].isalpha() and not said.isupper() and _NUMBER.match(text, m.end())):
            return said
        done.add(term.anchor)
        return f'<a href="{base}{PAGE}#{term.anchor}">{m.group(0)}</a>'
    return _PHRASES.sub(one, text)


STYLE = """<style>
body{font-family:Arial,sans-serif;max-width:900px;margin:1.5em auto;color:#212b32;
line-height:1.45;padding:0 1em}
dt{font-weight:bold;font-size:1.1em;margin-top:1.1em}
dd{margin:.2em 0 0 0}
dd p{margin:.2em 0}
.meta{color:#425563;font-size:.85em}
a{color:#005EB8}
:target{background:#fff9c4}
</style>"""


def page_html(back: str = "index.html") -> str:
    """The definitions page: every term with what it means and what it means for a
    commissioner; ``back`` leads to the run's index."""
    items = "".join(
        f'<dt id="{t.anchor}">{escape(t.name)}</dt><dd><p>{escape(t.meaning)}</p>'
        f"<p><strong>For a commissioner:</strong> {escape(t.for_commissioner)}</p></dd>"
        for t in TERMS)
    toc = " · ".join(f'<a href="#{t.anchor}">{escape(t.name)}</a>' for t in TERMS)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Definitions — commissioning analysis pack</title>{STYLE}</head><body>
<nav aria-label="Site"><a href="{escape(back)}">All reports</a></nav>
<main><h1>Definitions</h1>
<p>The terms the reports and area pages use, in plain English. Each term's first use on a
page links here.</p>
<nav aria-label="Terms" class="meta">{toc}</nav>
<dl>{items}</dl></main>
</body></html>
"""


def write_page(run: Path) -> Path:
    """Write the definitions page into a run folder; returns its path."""
    path = Path(run) / PAGE
    write_text_atomic(path, page_html())
    return path
