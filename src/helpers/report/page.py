"""The words around every report: the header line, the data statement and chart source line.

A report says which area it is about, with which parameters, and whether its data are real,
synthetic or a mix (the badge, worded as on the run's index: :data:`helpers.formats.BADGES`);
every chart carries a source line naming the data and its hash; a watermark marks charts of
synthetic referrals drawn on real practices.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers import formats
from helpers.analysis.context import Context
from helpers.report import text

TABLE_WORDS = {
    "commissioners": "Commissioners", "sub_areas": "Sub-areas (former CCGs)",
    "practices": "GP practices", "population": "Registered patients by age and sex",
    "groups": "Federation and network membership", "specialties": "Specialties",
    "referrals": "GP referrals by month and specialty",
    "reference_rates": "Reference referral rates", "providers": "Hospital providers",
    "contracts": "Hospital contracts", "prices": "Outpatient prices",
    "activity": "Outpatient activity and payments",
    "practice_outcomes": "Practice panel (list, workforce, payments)",
    "indicators": "Published practice indicators (A&E attendances aged 0-4, QOF registers)"}
"""Plain names of the contract tables, for readers."""


def area_md(ctx: Context) -> str:
    """The area's name made safe for report prose."""
    return text.md(ctx.area_name)


def watermark(ctx: Context) -> str:
    """Text stamped across charts of synthetic referrals on real practices."""
    return "SYNTHETIC REFERRALS · ILLUSTRATION" if ctx.synthetic_on_real else ""


def header_md(ctx: Context, details: dict[str, str] | None = None) -> str:
    """The line under a report's title: area, key parameters and what kind of data."""
    w = ctx.where
    code = ctx.public_code
    area = area_md(ctx) if ctx.is_england or code == ctx.area_name else \
        f"{area_md(ctx)} ({text.md(code)})"
    if ctx.level in ("network", "practice"):
        area += f", {text.md(ctx.level)} in {text.md(w.commissioner_name)}"
    if ctx.level == "practice" and ctx.network_name:
        area += f", network {text.md(ctx.network_name)}"
    parts = [f"**Area:** {area}"]
    closed = closed_note(ctx)
    if closed:
        parts.append(f"**{closed}**")
    parts += [f"**{k}:** {text.md(v)}" for k, v in (details or {}).items()]
    parts.append(f"**Data:** `{formats.BADGES[ctx.data_kind]}`")
    if ctx.publish:
        parts.append(f"**Publish mode:** {formats.PUBLISH_RULE}")
    return " · ".join(parts)


def closed_note(ctx: Context) -> str:
    """For a practice that has closed: 'Closed April 2017; its patients moved to P81030'
    (the successor named as the page names practices); empty otherwise."""
    if ctx.level != "practice":
        return ""
    p = ctx.ds.practices
    row = p[p["practice_code"].astype(str) == str(ctx.area)]
    if row.empty or pd.isna(row["close_date"].iloc[0]):
        return ""
    note = f"Closed {pd.Timestamp(row['close_date'].iloc[0]):%B %Y}"
    succ = row["successor_code"].iloc[0] if "successor_code" in row else None
    if succ is not None and not pd.isna(succ) and str(succ).strip():
        note += f"; its patients moved to {text.md(ctx.practice_labels([succ])[0])}"
    return note


def source_line(ctx: Context) -> str:
    """The source line under every chart: what the data are, and the dataset hash."""
    prov = ctx.ds.provenance
    kind = prov.get("source", "dataset")
    real = prov.get("real_tables", [])
    synth = prov.get("synthetic_tables", [])
    if kind == "synthetic":
        what = "synthetic England (simulated data)"
    elif "referrals" in synth and real:
        what = "real NHS open data; referrals and hospital activity synthetic"
    elif synth:
        what = f"{'real referrals; ' if 'referrals' in real else ''}{len(synth)} of " \
               f"{len(real) + len(synth)} tables synthetic (see the report header)"
    else:
        what = f"{kind} data"
    return f"{what}, dataset {ctx.ds.content_hash}"


def data_statement(ctx: Context) -> str:
    """Plain-English statement of which parts of the data are real."""
    prov = ctx.ds.provenance
    if prov.get("source") == "synthetic":
        return ("**These figures come from a synthetic England**: simulated practices, "
                "populations and referrals built to resemble published national figures, "
                "with known true effects. They illustrate the method and must not be read "
                "as facts about any real practice or commissioner.")
    # the table names are the dataset's own (provenance.json): data, so escaped like data
    real = "; ".join(text.md(TABLE_WORDS.get(x, x)) for x in prov.get("real_tables", []))
    synth = "; ".join(text.md(TABLE_WORDS.get(x, x)) for x in prov.get("synthetic_tables", []))
    real, synth = real or "none", synth or "none"
    out = f"**Real data:** {real}. **Synthetic (simulated) parts:** {synth}."
    if prov.get("statement"):        # the dataset's own words: data, so escaped like data
        out += f"\n\n{text.md(prov['statement'])}"
    return out


def coverage_text(v, together: Sequence[str] = (), shared: str = "") -> str:
    """Whether each 95% interval covers the effect planted in the synthetic data, in words
    ('' for real data, where nothing was planted). ``v`` has ``quantity`` and ``covered``.

    ``together`` names checks that come from one estimate on one comparison group (an
    overall effect and its parts), described by ``shared``: when two or more of them miss,
    the text says they miss together and counts them as one, so several misses of one
    unlucky comparison group are not read as several independent failures."""
    if v is None or len(v) == 0:
        return ""
    missed = v.loc[~v["covered"].astype(bool), "quantity"].tolist()
    if not missed:
        return f"Every one of the {len(v)} intervals covers the effect planted in the data."
    out = (f"**{len(missed)} of {len(v)} intervals miss the planted effect:** "
           + "; ".join(text.md(q) for q in missed) + ".")
    joint = [q for q in missed if q in set(together)]
    n_checks = len(v) - len(set(together) & set(v["quantity"])) + 1
    if len(joint) > 1:
        out += (f" {len(joint)} of these come from {shared}, so they cover or miss "
                f"together: counted as one, that is "
                f"{text.plural(len(missed) - len(joint) + 1, 'miss', 'misses')} in "
                f"{text.plural(n_checks, 'check')}.")
    return out + (" A 95% interval misses about 1 time in 20 by chance; more misses than "
                  "that mean the estimate is biased on this data, so read it with that in "
                  "mind.")
