"""The oracle's facts of a dataset, computed once with plain DuckDB SQL over its contract
tables (a folder of ``<table>.parquet`` or ``<table>.csv`` files).

What it computes, by practice and financial year (April to March, named by its first
calendar year), in the pack's documented convention (``docs/report-quality.md``,
``helpers/analysis/referrals.py``), written again from the tables:

- referrals: the sum of the ``referrals`` rows;
- months open: the months in which the practice has any referral row (the convention: a
  practice counts as open in a month when it referred at all that month);
- expected (indirect standardisation): the practice's registered patients in the financial
  year's population snapshot, by sex and age band, times England's reference rates summed
  over the specialties, a twelfth of that for each month open; each year's expected counts
  are then scaled so that England's observed / expected is exactly 1 in that year;
- years open: the financial years in which the practice had registered patients;
- list size: its patients at its latest population snapshot;
- months and quarters (financial quarters) with 1 to 7 referrals, while open.

And the structure: each practice's commissioner and network (the group it joined last),
each network's members (every practice ever in the group) and home commissioner (that of
most of its members), each commissioner's networks and its practices in no group, and the
code each is published under (its own: ``public``).

The result is a JSON-ready dict, cached in ``data/cache/oracle-<content hash>-<code hash>.json``
so that a run computes it once and each batch worker reads it once.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from helpers.atomic import write_text_atomic
from helpers.paths import cache_dir, project_root, synthetic_dir

TABLES = ("commissioners", "practices", "groups", "population", "referrals",
          "reference_rates", "specialties")
OPTIONAL = ("groups", "activity", "prices")
"""Tables a dataset may lack: no groups means no networks, no activity or prices no contract
values."""


def dataset_folder(data_source: str) -> Path:
    """The folder a data source names: ``synthetic:<preset>`` or a folder (absolute, or
    relative to the project root)."""
    if data_source.startswith("synthetic:"):
        return synthetic_dir(data_source.split(":", 1)[1])
    path = Path(data_source)
    return path if path.is_absolute() else project_root() / path


def _content_hash(folder: Path) -> str:
    """The dataset's content hash as its provenance records it, else computed the same way
    (SHA-256 over the table files' names and bytes, first 16 hex digits)."""
    prov = folder / "provenance.json"
    if prov.exists():
        h = json.loads(prov.read_text(encoding="utf-8")).get("content_hash")
        if h:
            return str(h)
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        if p.suffix in (".parquet", ".csv") and p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _source_hash() -> str:
    h = hashlib.sha256()
    for p in sorted(Path(__file__).parent.glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


_CODE_HASH = _source_hash()
"""The oracle's source as this process imported it: a process that imported an older oracle
and computes after its files changed names its facts by the code it ran, not the new one."""


def _code_hash() -> str:
    """A hash of the oracle's own source (as imported), so a changed oracle never reads stale
    facts."""
    return _CODE_HASH


def _connect(folder: Path):
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")   # nothing on a batch's output
    for t in TABLES + OPTIONAL[1:]:
        pq, csv = folder / f"{t}.parquet", folder / f"{t}.csv"
        if pq.exists():
            src = f"read_parquet('{pq.as_posix()}')"
        elif csv.exists():
            src = f"read_csv_auto('{csv.as_posix()}', header=true)"
        elif t == "groups":
            con.execute("CREATE VIEW groups AS SELECT NULL::VARCHAR practice_code, "
                        "NULL::VARCHAR group_code, NULL::VARCHAR group_name, "
                        "NULL::DATE joined WHERE false")
            continue
        elif t in OPTIONAL:
            continue
        else:
            raise FileNotFoundError(f"{folder}: no {t}.parquet or {t}.csv")
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM {src}")
    return con


FY = "(year(CAST({c} AS DATE)) - CASE WHEN month(CAST({c} AS DATE)) < 4 THEN 1 ELSE 0 END)"


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def specialty_code(specialty: str | None) -> str | None:
    """A report's specialty parameter as the oracle keys it: None for all ('ALL', empty),
    else the treatment function code (letters and digits only)."""
    if specialty is None or str(specialty).strip().upper() in ("", "ALL"):
        return None
    code = str(specialty).strip()
    if not re.fullmatch(r"[A-Za-z0-9]+", code):
        raise ValueError(f"specialty {specialty!r} is not a treatment function code")
    return code


def compute(folder: Path, specialty: str | None = None) -> dict[str, Any]:
    """Every fact the checker needs, for every practice, network and commissioner of the
    dataset in ``folder`` (see the module docstring); with ``specialty`` (a treatment
    function code) the referrals and expected referrals are that specialty's alone (its
    expected counts scaled so England's ratio is 1 in each year of it), while the months
    open stay the months with any referral row."""
    folder = Path(folder)
    spec = specialty_code(specialty)
    mine = "TRUE" if spec is None else f"CAST(specialty_code AS VARCHAR) = '{spec}'"
    con = _connect(folder)
    fy_month, fy_period = FY.format(c="month"), FY.format(c="period")
    first, last = _rows(con, "SELECT min(CAST(month AS DATE)), max(CAST(month AS DATE)) "
                             "FROM referrals")[0]
    # the practice's observed referrals and months with a referral row, by financial year
    pm = _rows(con, f"""
        SELECT CAST(practice_code AS VARCHAR), {fy_month} AS y,
               count(DISTINCT CAST(month AS DATE)) AS months,
               sum(CASE WHEN {mine} THEN referrals ELSE 0 END) AS obs
        FROM referrals GROUP BY 1, 2""")
    # a year's full expected count: patients × England's rates summed over specialties
    annual = _rows(con, f"""
        WITH rate AS (
            SELECT CAST(sex AS VARCHAR) sex, CAST(age_band AS VARCHAR) age_band,
                   sum(rate) AS r
            FROM reference_rates
            WHERE CAST(specialty_code AS VARCHAR) IN
                  (SELECT CAST(specialty_code AS VARCHAR) FROM specialties)
              AND {mine}
            GROUP BY 1, 2)
        SELECT CAST(p.practice_code AS VARCHAR), {fy_period.replace('period', 'p.period')} AS y,
               sum(p.patients * rate.r) AS e
        FROM population p JOIN rate
          ON CAST(p.sex AS VARCHAR) = rate.sex AND CAST(p.age_band AS VARCHAR) = rate.age_band
        GROUP BY 1, 2""")
    pop_years = _rows(con, f"""
        SELECT CAST(practice_code AS VARCHAR), {fy_period} AS y
        FROM population GROUP BY 1, 2 HAVING sum(patients) > 0""")
    lists = _rows(con, """
        WITH t AS (SELECT CAST(practice_code AS VARCHAR) pc, CAST(period AS DATE) d,
                          sum(patients) n FROM population GROUP BY 1, 2)
        SELECT pc, arg_max(n, d), max(d) FROM t GROUP BY pc""")
    latest = _rows(con, "SELECT max(CAST(period AS DATE)) FROM population")[0][0]
    small_months = _rows(con, f"""
        SELECT CAST(practice_code AS VARCHAR), CAST(month AS DATE) m,
               sum(CASE WHEN {mine} THEN referrals ELSE 0 END) n
        FROM referrals GROUP BY 1, 2""")
    practices = _rows(con, """
        SELECT CAST(practice_code AS VARCHAR), CAST(practice_name AS VARCHAR),
               CAST(commissioner_code AS VARCHAR), CAST(open_date AS DATE),
               CAST(close_date AS DATE), CAST(successor_code AS VARCHAR)
        FROM practices ORDER BY 1""")
    commissioners = _rows(con, """
        SELECT CAST(commissioner_code AS VARCHAR), CAST(commissioner_name AS VARCHAR)
        FROM commissioners ORDER BY 1""")
    groups = _rows(con, """
        SELECT CAST(practice_code AS VARCHAR), CAST(group_code AS VARCHAR),
               CAST(group_name AS VARCHAR), CAST(joined AS DATE)
        FROM groups ORDER BY 4, 1""")
    spec_names = _rows(con, """
        SELECT CAST(specialty_code AS VARCHAR), CAST(specialty_name AS VARCHAR)
        FROM specialties ORDER BY 1""")
    by_spec: list[tuple] = []
    spec_annual: list[tuple] = []
    if spec is None:
        # by specialty: referrals, and a year's full expected count at England's rates of
        # that specialty (scaled below so England's ratio is 1 in each specialty and year)
        by_spec = _rows(con, f"""
            SELECT CAST(practice_code AS VARCHAR), {fy_month} AS y,
                   CAST(specialty_code AS VARCHAR), sum(referrals)
            FROM referrals GROUP BY 1, 2, 3""")
        spec_annual = _rows(con, f"""
            SELECT CAST(p.practice_code AS VARCHAR), {fy_period.replace('period', 'p.period')},
                   CAST(r.specialty_code AS VARCHAR), sum(p.patients * r.rate)
            FROM population p JOIN reference_rates r
              ON CAST(p.sex AS VARCHAR) = CAST(r.sex AS VARCHAR)
             AND CAST(p.age_band AS VARCHAR) = CAST(r.age_band AS VARCHAR)
            WHERE CAST(r.specialty_code AS VARCHAR) IN
                  (SELECT CAST(specialty_code AS VARCHAR) FROM specialties)
            GROUP BY 1, 2, 3""")
    value = []
    tables = {r[0] for r in _rows(con, "SELECT table_name FROM information_schema.tables")}
    if {"activity", "prices"} <= tables:
        # each commissioner's outpatient activity a financial year at full price: first
        # attendances and follow-ups at that year's prices
        value = _rows(con, f"""
            SELECT CAST(a.commissioner_code AS VARCHAR), {FY.format(c='a.month')} AS y,
                   sum(a.first_attendances * p.price_first + a.follow_ups * p.price_followup)
            FROM activity a JOIN prices p
              ON CAST(a.specialty_code AS VARCHAR) = CAST(p.specialty_code AS VARCHAR)
             AND p.year = {FY.format(c='a.month')}
            GROUP BY 1, 2""")
    con.close()

    prac: dict[str, dict[str, Any]] = {}
    for code, name, comm, opened, closed, succ in practices:
        prac[code] = {"name": name, "commissioner": comm, "network": None,
                      "open": str(opened) if opened else None,
                      "close": str(closed) if closed else None, "successor": succ,
                      "list_size": 0, "list_date": None, "obs": {}, "months": {},
                      "annual": {}, "pop_years": [], "months_1_7": [], "quarters_1_7": [],
                      "month_counts": {}}
    for code, y, months, obs in pm:
        prac[code]["obs"][str(y)] = int(obs)
        prac[code]["months"][str(y)] = int(months)
    for code, y, e in annual:
        if code in prac:
            prac[code]["annual"][str(y)] = prac[code]["annual"].get(str(y), 0.0) + float(e)
    for code, y in pop_years:
        if code in prac:
            prac[code]["pop_years"].append(int(y))
    for code, n, d in lists:
        if code in prac:
            prac[code]["list_size"], prac[code]["list_date"] = int(n), str(d)
    quarters: dict[tuple[str, str], int] = {}
    for code, m, n in small_months:
        prac[code]["month_counts"][str(m)[:7]] = int(n)
        if 1 <= n <= 7:
            prac[code]["months_1_7"].append(str(m)[:7])
        q = f"{m.year}-{(m.month - 1) // 3 * 3 + 1:02d}"
        quarters[code, q] = quarters.get((code, q), 0) + int(n)
    for (code, q), n in sorted(quarters.items()):
        if 1 <= n <= 7:
            prac[code]["quarters_1_7"].append(q)
    for p in prac.values():
        p["pop_years"].sort()
        p["months_1_7"].sort()
    # expected: a twelfth of the year's full count for each month with a referral row,
    # then each year scaled so that England's observed / expected is 1
    years = sorted({int(y) for p in prac.values() for y in p["obs"]})
    scale = {}
    for y in years:
        o = sum(p["obs"].get(str(y), 0) for p in prac.values())
        e = sum(p["annual"].get(str(y), 0.0) * p["months"].get(str(y), 0) / 12
                for p in prac.values())
        scale[str(y)] = o / e if e > 0 else 0.0
    for p in prac.values():
        p["exp"] = {y: p["annual"].get(y, 0.0) * m / 12 * scale[y]
                    for y, m in p["months"].items()}
        del p["annual"]
    spec_of = _by_specialty(prac, by_spec, spec_annual)

    members: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    for code, g, gname, _joined in groups:       # ordered by joining date: the last wins
        if code not in prac:
            continue
        members.setdefault(g, set()).add(code)
        names.setdefault(g, gname)
        prac[code]["network"] = g
    networks = {}
    for g, ms in members.items():
        counts: dict[str, int] = {}
        for c in ms:
            counts[prac[c]["commissioner"]] = counts.get(prac[c]["commissioner"], 0) + 1
        home = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        networks[g] = {"name": names[g], "commissioner": home, "members": sorted(ms)}
    comms = {}
    for code, name in commissioners:
        mine = sorted(c for c, p in prac.items() if p["commissioner"] == code)
        comms[code] = {"name": name, "members": mine,
                       "activity_value_gbp": {str(y): float(v) for c, y, v in value
                                              if c == code},
                       "networks": sorted(g for g, n in networks.items()
                                          if n["commissioner"] == code),
                       "ungrouped": [c for c in mine if prac[c]["network"] is None]}

    # each network's, commissioner's and England's figures by specialty as one line too, so
    # a page about many practices is checked against one line rather than each practice's
    for group in (*networks.values(), *comms.values()):
        group["spec"] = _group_line(spec_of, group["members"])
    england = {"spec": _group_line(spec_of, sorted(prac))}

    content_hash = _content_hash(folder)
    # practices and networks are published under their own codes (docs/real-data.md): a
    # real-structure page that would need a pseudonym is not published at all
    for code, p in prac.items():
        p["public"] = code
    for code, n in networks.items():
        n["public"] = code
    return {"content_hash": content_hash, "folder": str(folder), "specialty": spec,
            "pseudonymised": False,
            "first_month": str(first)[:7], "last_month": str(last)[:7],
            "latest_count": str(latest), "years": years, "scale": scale,
            "practices": prac, "networks": networks, "commissioners": comms,
            "england": england,
            "specialties": {str(c): str(n) for c, n in spec_names}}


def _by_specialty(prac: dict[str, dict[str, Any]], by_spec: list[tuple],
                  spec_annual: list[tuple]) -> dict[str, dict[str, dict[str, tuple]]]:
    """Each practice's referrals and expected referrals by specialty and financial year: a
    twelfth of the year's full expected count of that specialty for each month open, each
    specialty's year scaled so that England's observed / expected is 1 (as for one
    specialty's report). Written as one line of text a practice, ``p["spec"]``
    (:func:`helpers.oracle.facts.by_specialty` reads it): for a batch worker, England's
    130,000 practice-specialties as 6,500 strings load 5 times faster and take a fifth of
    the memory of as many lists. Returns the figures as written (practice → specialty →
    year → (referrals, expected)), unrounded."""
    annual: dict[tuple[str, str, str], float] = {}
    for code, y, s, e in spec_annual:
        if code in prac:
            annual[code, str(y), s] = annual.get((code, str(y), s), 0.0) + float(e)
    obs = {(code, str(y), s): int(n) for code, y, s, n in by_spec if code in prac}
    raw: dict[tuple[str, str, str], float] = {}
    for (code, y, s), e in annual.items():
        months = prac[code]["months"].get(y, 0)
        if months:
            raw[code, y, s] = e * months / 12
    tot_o: dict[tuple[str, str], float] = {}
    tot_e: dict[tuple[str, str], float] = {}
    for (_code, y, s), n in obs.items():
        tot_o[y, s] = tot_o.get((y, s), 0) + n
    for (_code, y, s), e in raw.items():
        tot_e[y, s] = tot_e.get((y, s), 0.0) + e
    spec: dict[str, dict[str, dict[str, tuple[int, float]]]] = {c: {} for c in prac}
    for key in sorted(set(obs) | set(raw)):
        code, y, s = key
        e = raw.get(key, 0.0)
        e = e * tot_o.get((y, s), 0) / tot_e[y, s] if tot_e.get((y, s), 0) > 0 else 0.0
        spec[code].setdefault(s, {})[y] = (obs.get(key, 0), e)
    for code, p in prac.items():
        p["spec"] = encode_specialties(spec[code])
    return spec


def _group_line(spec: dict[str, dict[str, dict[str, tuple]]], members: list[str]) -> str:
    """The figures by specialty of a set of practices (a network, a commissioner, England)
    as one line like a practice's: each specialty's and year's referrals and expected
    referrals summed over the members, the expected to 12 significant digits (a practice's
    line writes 9, so its sum over hundreds of practices is further from the exact sum than
    this line: 2 parts in 10^9 on synthetic England)."""
    out: dict[str, dict[str, tuple[int, float]]] = {}
    for m in members:
        for s, by in spec[m].items():
            acc = out.setdefault(s, {})
            for y, (o, e) in by.items():
                had_o, had_e = acc.get(y, (0, 0.0))
                acc[y] = (had_o + o, had_e + e)
    return encode_specialties(out, digits=12)


def encode_specialties(spec: dict[str, dict[str, tuple[int, float]]], digits: int = 9) -> str:
    """A practice's figures by specialty as one line: ``S1=2018:120/110.5,2019:…;S2=…``
    (specialty = year: referrals / expected, ``digits`` significant digits)."""
    return ";".join(f"{s}=" + ",".join(f"{y}:{o}/{e:.{digits}g}"
                                       for y, (o, e) in sorted(by.items()))
                    for s, by in sorted(spec.items()))


def facts_file(folder: Path, specialty: str | None = None) -> Path:
    """Where the facts of a dataset are cached: by its content hash, the oracle's code and
    the specialty (all when None)."""
    spec = specialty_code(specialty)
    tail = "" if spec is None else f"-s{spec}"
    return cache_dir() / f"oracle-{_content_hash(Path(folder))}-{_code_hash()}{tail}.json"


def load_or_compute(folder: Path, specialty: str | None = None
                    ) -> tuple[dict[str, Any], Path]:
    """The facts of a dataset folder (one specialty's, or all), from the cache when there and
    of the same content (else computed and cached), and the cached file's path."""
    path = facts_file(folder, specialty)
    want = _content_hash(Path(folder))
    if path.exists():
        try:
            facts = json.loads(path.read_text(encoding="utf-8"))
            if facts.get("content_hash") == want and \
                    facts.get("specialty") == specialty_code(specialty):
                return facts, path
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass                                   # damaged: computed again
    facts = compute(folder, specialty)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(facts, separators=(",", ":")))
    return facts, path
