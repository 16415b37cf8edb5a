"""The re-identification attack on a published real-structure run, from outside.

A published run of real-structure data (real practices, networks and ICBs; synthetic
referrals and contracts) must tie no synthetic finding to an identifiable practice or
network (docs/real-data.md). This test renders one: an ICB drawn at random (seeded) from
the five smallest, with two of its networks and three of its practices, every notebook,
publish mode. Then, holding only the run's files and the public NHS files in
``../shared/data/real``, it tries what a reader could:

1. every key printed anywhere (footer, chart source lines, manifest) is tried as the key of
   a pseudonym for every practice and network code in England;
2. every real practice and PCN code in England, and every name of the ICB's practices and
   PCNs, is searched for in every file of the run, CSV downloads decoded;
3. every real attribute of the ICB's practices (registered lists in every year, exact and
   rounded to 5; payments per weighted patient to the penny) is searched for in every table
   row, chart point and sentence of every report with synthetic findings;
4. no report of a notebook with synthetic findings exists for a practice or network.

Real codes may appear only beside real figures: a chart point of a real outcome whose value
is that practice's published value (02's payment curve), or a page of real findings
(notebook 04).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import json
import random
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers.analysis.areas import area_table
from helpers.analysis.context import SYNTHETIC_FINDINGS
from helpers.datasets import load_dataset
from helpers.run import batch
from helpers.sources import nhs_files

pytestmark = [pytest.mark.slow, pytest.mark.real]

SEED = 35
_CSV = re.compile(r"data:text/csv;[^,\"]*base64,([A-Za-z0-9+/=]+)")
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
_ROW = re.compile(r"<tr[ >].*?</tr>", re.S)
_TAG = re.compile(r"<[^>]+>")
_HEX = re.compile(r"\b[0-9a-f]{12,64}\b")
_PSEUDONYM = re.compile(r"\b[PN]-[0-9A-F]{6}\b")
_CODE = re.compile(r"\b[A-Z]\d{5}\b")
_CELL = re.compile(r"<t[dh][ >].*?</t[dh]>", re.S)
_ONE_ORG = re.compile(r"\b[A-Z]\d{5}\b|\b[PN]-[0-9A-F]{6}\b|practice|surgery|medical|health "
                      r"cent|\bpcn\b|network|partnership", re.I)
_AGGREGATE = re.compile(r"England|Integrated Care Board|\bICB\b|practices\b|networks\b|"
                        r"this commissioner", re.I)
_POINT = re.compile(r"^(\S+): ([\d,.]+); ([\d,]+) patients, (\d{4})/\d\d"
                    r"(?: \(GP FTE of \d{4}\))?$")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def _files(out: Path) -> dict[Path, str]:
    """Every text file of the run, with each HTML page's CSV downloads decoded after it."""
    found = {}
    for f in sorted(out.rglob("*")):
        if not f.is_file() or f.suffix not in (".html", ".json", ".js", ".ipynb", ".csv",
                                               ".txt"):
            continue
        body = f.read_text(encoding="utf-8", errors="replace")
        csvs = [base64.b64decode(m).decode("utf-8-sig") for m in _CSV.findall(body)]
        found[f] = body + "\n" + "\n".join(csvs)
    return found


@pytest.fixture(scope="module")
def attack(real_dir, real_england, tmp_path_factory):
    data = real_england
    ds = load_dataset(data)
    t = area_table(ds)
    sizes = t[t["level"] == "practice"].groupby("commissioner_code").size().sort_values()
    rng = random.Random(SEED)
    icb = rng.choice(sorted(sizes.index[:5]))
    nets = sorted(t.loc[(t["level"] == "network") & (t["commissioner_code"] == icb), "code"])
    pracs = sorted(t.loc[(t["level"] == "practice") & (t["commissioner_code"] == icb),
                         "code"])
    areas = [icb, *rng.sample(nets, min(2, len(nets))), *rng.sample(pracs, 3)]
    root = tmp_path_factory.mktemp("attack")
    grid = root / "grid.yaml"
    grid.write_text(yaml.safe_dump({"data_source": str(data), "publish": True,
                                    "areas": areas, "notebooks": "all"}))
    _, out = batch.run(grid, jobs_n=2, run_id="attack", out_root=root, timeout=900)
    return ds, icb, areas, out, _files(out)


@pytest.fixture(scope="module")
def public(real_dir):
    """What the attacker knows: the published files."""
    pay = nhs_files.read_gp_payments_panel(real_dir)
    epr = nhs_files.read_epraccur(next(real_dir.glob("ods_epraccur_*.csv")))
    pcn = nhs_files.read_epcn_membership(next(real_dir.glob("ods_epcn_core_partner_*.csv")))
    return pay, epr, pcn


def _synthetic_reports(files: dict[Path, str], out: Path) -> dict[Path, str]:
    return {f: body for f, body in files.items()
            if f.parent.name in SYNTHETIC_FINDINGS and f.parent.parent == out}


def test_no_synthetic_report_for_a_practice_or_network(attack):
    ds, icb, areas, out, files = attack
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["publish"] is True
    below = [r["report_id"] for r in manifest["reports"]
             if r["notebook"] in SYNTHETIC_FINDINGS and r["level"] in ("practice", "network")]
    assert below == []
    ours = {r["notebook"] for r in manifest["reports"] if r["area"] == icb}
    assert set(SYNTHETIC_FINDINGS) <= ours, ours        # the ICB's own, aggregate, pages
    # no page, area page, index or search entry links to a synthetic report of one of them
    slugs = {a.lower() for a in areas[1:]}
    for f, body in files.items():
        for nb, slug in re.findall(r"(0[0-3]_[a-z_]+)/([a-z0-9._-]+)\.html", body):
            assert slug not in slugs, (f, nb, slug)


def test_no_printed_key_inverts_a_pseudonym(attack, public):
    ds, icb, areas, out, files = attack
    everything = "\n".join(files.values())
    assert _PSEUDONYM.findall(everything) == []        # nothing left to invert
    keys = set(_HEX.findall(everything)) | {ds.content_hash}
    assert ds.content_hash in keys                     # the hash is printed, as before
    codes = set(ds.practices["practice_code"].astype(str)) | set(
        ds.groups["group_code"].astype(str))
    digests = {hashlib.sha256(f"{k}:{c}".encode()).hexdigest()[:6].upper()
               for k in keys for c in codes}        # every key against every code
    # any six upper-case hex digits standing alone that could be a pseudonym's digest
    # without its prefix (a decimal number or a #RRGGBB colour is not one)
    shown = {t for t in re.findall(r"(?<![#\w-])[0-9A-F]{6}(?![\w-])", everything)
             if re.search(r"[A-F]", t) and re.search(r"\d", t)}
    assert not digests & shown, sorted(digests & shown)[:5]


def test_real_codes_and_names_only_beside_real_figures(attack, public, real_dir):
    ds, icb, areas, out, files = attack
    pay, epr, pcn = public
    practice_codes = set(pay["practice_code"]) | set(epr["practice_code"])
    pcn_codes = set(pcn["group_code"])
    mine = ds.practices[ds.practices["commissioner_code"] == icb]
    mine_codes = set(mine["practice_code"].astype(str))
    names = {n.lower() for n in epr.loc[epr["practice_code"].isin(mine_codes),
                                        "practice_name"].dropna() if len(n) >= 10}
    names |= {n.lower() for n in pcn.loc[pcn["practice_code"].isin(mine_codes),
                                         "group_name"].dropna() if len(n) >= 10}
    # a real chart point's value as published: payments per weighted patient (NHS
    # Payments), or GP FTE (the workforce file's calendar year Y+1) per 1,000 registered
    # patients of financial year Y
    real_values = pay.assign(v=pay["total_payments_gbp"] / pay["weighted_patients"])[
        ["practice_code", "year", "v"]]
    w = nhs_files.read_gp_workforce(real_dir / "heec_gp_workforce_practice_year.csv")
    fte = w.assign(year=w["year"] - 1).merge(pay[["practice_code", "year",
                                                  "registered_patients"]])
    fte = fte.assign(v=fte["gp_fte"] / fte["registered_patients"] * 1000)
    real_values = pd.concat([real_values, fte[["practice_code", "year", "v"]]])
    by_point = real_values.dropna().groupby(["practice_code", "year"])["v"].apply(list)
    bad = []
    for f, body in _synthetic_reports(files, out).items():
        titles = _TITLE.findall(body)
        for title in titles:
            t = _text(title)
            found = set(_CODE.findall(t)) & (practice_codes | pcn_codes)
            if not found:
                continue
            m = _POINT.match(t)
            key = (m.group(1), int(m.group(4))) if m else None
            real = key in by_point.index and any(
                abs(v - float(m.group(2).replace(",", ""))) <= 0.006 for v in by_point[key])
            if not real:                  # a code beside anything but its own real value
                bad.append((f.name, t))
        rest = _TITLE.sub(" ", body)
        for code in set(_CODE.findall(rest)) & (practice_codes | pcn_codes):
            bad.append((f.name, code))
        low = " ".join(html.unescape(rest).lower().split())
        bad += [(f.name, n) for n in names if " ".join(n.split()) in low]
    assert bad == [], bad[:10]


def test_no_real_attribute_of_a_practice_beside_a_synthetic_finding(attack, public):
    ds, icb, areas, out, files = attack
    pay, _, _ = public
    mine = set(ds.practices.loc[ds.practices["commissioner_code"] == icb, "practice_code"]
               .astype(str))
    p = pay[pay["practice_code"].isin(mine) & (pay["registered_patients"] > 0)]
    lists = {}
    for code, n in zip(p["practice_code"], p["registered_patients"], strict=True):
        for v in {round(n), 5 * round(n / 5)}:
            if v >= 1000:                  # smaller counts say nothing about one practice
                lists.setdefault(f"{v:,}", set()).add(code)
    pennies = {f"{v:.2f}" for v in p["total_payments_gbp"] / p["weighted_patients"]
               if pd.notna(v) and v > 0}
    bad = []
    for f, body in _synthetic_reports(files, out).items():
        page = _TITLE.sub(" ", body)
        # a table or CSV row standing for one organisation (labelled by a code, a
        # pseudonym or an organisation's name) that holds a practice's real list size
        rows = [[_text(c) for c in _CELL.findall(r)] for r in _ROW.findall(page)]
        rows += [next(csv.reader([line])) for line in body.splitlines()
                 if line.count(",") >= 2 and not line.lstrip().startswith(("<", "{", "\""))]
        for row in rows:
            if not row or not _ONE_ORG.search(row[0]) or _AGGREGATE.search(row[0]):
                continue
            hit = set(re.findall(r"\d{1,3}(?:,\d{3})+", " ".join(row[1:]))) & set(lists)
            if hit:
                bad.append((f.name, row[:4], sorted(hit)))
        # payments per weighted patient to the penny is unique in England for most
        # practices: it may appear only in a chart point that names its practice (checked
        # above), never in text beside a synthetic figure
        words = _text(page)
        bad += [(f.name, v) for v in pennies if re.search(rf"£?\b{re.escape(v)}\b", words)]
    assert bad == [], bad[:10]
