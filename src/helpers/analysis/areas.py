"""Areas a report can be about: England, a commissioner, a network (federation or primary
care network) or a single practice, with the areas each is compared with.

An area is named by its code (matched without regard to case): ``ENGLAND``, a commissioner
code, a group code from the ``groups`` table, or a practice code. A network belongs to the
commissioner of most of its practices; a practice to its latest network. A practice is also
compared with its peers: the 50 practices most like it in list size and deprivation, and
the 10 most similar practices as NHS RightCare builds its similar-10 sets (nearest on age
profile, deprivation, rurality and list size; :func:`similar_practices`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.cache import cached
from helpers.datasets import Dataset
from helpers.schema import ENGLAND

LEVELS = ("england", "commissioner", "network", "practice")
N_PEERS = 50
N_SIMILAR = 10
SIMILAR_FEATURES = {"log_list": "list size (log)", "imd_score": "IMD score",
                    "over_65": "share of patients aged 65 or over",
                    "under_15": "share aged under 15", "rural": "rural (1) or urban (0)"}
"""What makes practices similar, RightCare style: each standardised to mean 0 and SD 1 over
England's open practices, equally weighted."""


class AreaError(ValueError):
    """An area code that is not in the data, or an area list that cannot be expanded."""


@dataclass(frozen=True)
class Area:
    """One area: its level, code, name, member practices and parents."""

    level: str
    code: str
    name: str
    practices: tuple[str, ...]
    commissioner: str = ENGLAND          # the commissioner it sits in (ENGLAND for England)
    commissioner_name: str = "England"
    network: str | None = None           # a practice's network
    network_name: str | None = None
    peers: tuple[str, ...] = field(default_factory=tuple)
    similar: tuple[str, ...] = field(default_factory=tuple)   # a practice's similar 10


@cached
def area_table(ds: Dataset) -> pd.DataFrame:
    """Cached: every area below England, one row each: ``code``, ``level``, ``name``,
    ``commissioner_code``, ``network_code`` (practices only), list size and IMD score
    (practices only, for peers)."""
    comm = ds.commissioners.assign(
        code=ds.commissioners["commissioner_code"].astype(str),
        name=ds.commissioners["commissioner_name"].astype(str),
        level="commissioner", commissioner_code=ds.commissioners[
            "commissioner_code"].astype(str))[["code", "level", "name",
                                               "commissioner_code"]]
    p = ds.practices.assign(practice_code=ds.practices["practice_code"].astype(str),
                            commissioner_code=ds.practices["commissioner_code"].astype(str))
    pop = ds.population.groupby(["practice_code", "period"], observed=True)[
        "patients"].sum().reset_index().sort_values("period")
    lists = pop.groupby("practice_code", observed=True)["patients"].last()
    lists.index = lists.index.astype(str)
    rows = [comm]
    net_of = pd.Series(dtype=object)
    if ds.has("groups") and len(ds.groups):
        g = ds.groups.assign(practice_code=ds.groups["practice_code"].astype(str),
                             group_code=ds.groups["group_code"].astype(str))
        net_of = g.sort_values("joined").groupby("practice_code")["group_code"].last()
        gc = g.merge(p[["practice_code", "commissioner_code"]], on="practice_code")
        home = gc.groupby("group_code")["commissioner_code"].agg(
            lambda s: s.value_counts().index[0])
        names = g.drop_duplicates("group_code").set_index("group_code")["group_name"]
        rows.append(pd.DataFrame({"code": home.index, "level": "network",
                                  "name": names.reindex(home.index).astype(str).to_numpy(),
                                  "commissioner_code": home.to_numpy()}))
    rows.append(pd.DataFrame({
        "code": p["practice_code"], "level": "practice",
        "name": p["practice_name"].astype(str),
        "commissioner_code": p["commissioner_code"],
        "network_code": p["practice_code"].map(net_of),
        "list_size": p["practice_code"].map(lists).astype(float),
        "imd_score": p["imd_score"].astype(float)}))
    out = pd.concat(rows, ignore_index=True)
    clash = out["code"].str.upper().duplicated(keep=False)
    if clash.any():
        raise AreaError(f"area codes used at more than one level: "
                        f"{sorted(out.loc[clash, 'code'].unique())[:5]}")
    return out


def peers(table: pd.DataFrame, practice: str, n: int = N_PEERS) -> list[str]:
    """The ``n`` practices nationally most like ``practice`` in log list size and IMD score
    (each standardised), excluding itself."""
    p = table[(table["level"] == "practice") & table["list_size"].gt(0)]
    x = np.column_stack([np.log(p["list_size"].to_numpy(float)),
                         p["imd_score"].to_numpy(float)])
    sd = np.nanstd(x, axis=0)
    x = (x - np.nanmean(x, axis=0)) / np.where(sd > 0, sd, 1.0)   # one practice: no spread
    me = np.flatnonzero(p["code"].to_numpy() == practice)
    if not len(me):
        return []
    d = np.sqrt(np.nansum((x - x[me[0]]) ** 2, axis=1))
    d[me[0]] = np.inf
    return p["code"].to_numpy()[np.argsort(d)[:n]].tolist()


@cached
def similarity_features(ds: Dataset) -> pd.DataFrame:
    """Cached: each practice's features for :func:`similar_practices`, at its latest
    population count: log list size, IMD score, shares aged 65+ and under 15, rural."""
    pop = ds.population
    latest = pop.groupby("practice_code", observed=True)["period"].transform("max")
    p = pop[pop["period"] == latest]
    band = p["age_band"].astype(str)
    first_age = pd.to_numeric(band.str.extract(r"^(\d+)")[0], errors="coerce")
    tot = p.groupby("practice_code", observed=True)["patients"].sum()
    last = p.groupby("practice_code", observed=True)["period"].max()
    old = p[first_age >= 65].groupby("practice_code", observed=True)["patients"].sum()
    young = p[first_age < 15].groupby("practice_code", observed=True)["patients"].sum()
    f = pd.DataFrame({"list_size": tot, "over_65": old.reindex(tot.index).fillna(0) / tot,
                      "under_15": young.reindex(tot.index).fillna(0) / tot})
    f.index = f.index.astype(str)
    pr = ds.practices.assign(practice_code=ds.practices["practice_code"].astype(str)) \
        .set_index("practice_code")
    f["imd_score"] = pr["imd_score"].reindex(f.index).astype(float)
    f["rural"] = (pr["rurality"].reindex(f.index).astype(str).str.lower() == "rural") \
        .astype(float)
    f["current"] = (last.reindex(tot.index).to_numpy() == pop["period"].max())
    f = f[f["list_size"] > 0]
    f["log_list"] = np.log(f["list_size"])
    return f.reset_index(names="practice_code")


def similar_practices(ds: Dataset, practice: str, n: int = N_SIMILAR) -> pd.DataFrame:
    """The ``n`` practices most similar to ``practice`` (itself excluded), nearest first:
    ``practice_code`` and ``distance`` (Euclidean over the standardised
    :data:`SIMILAR_FEATURES`, equally weighted, among practices open at their latest count
    as the practice is, or among all for a closed practice).

    Hand-written: NHS RightCare's similar-10 method (nearest neighbours on standardised
    demographic features) is a published convention, not a library function; scikit-learn's
    NearestNeighbors would add a dependency for ten lines of numpy.

    References
    ----------
    NHS RightCare, *Similar 10 explorer tool*: CCGs' and practices' most similar peers on
    age, deprivation, rurality and population.
    """
    f = similarity_features(ds)
    me = f["practice_code"] == practice
    if me.any() and bool(f.loc[me, "current"].iloc[0]):   # open: compared with open ones
        f = f[f["current"] | me].reset_index(drop=True)
    cols = list(SIMILAR_FEATURES)
    x = f[cols].to_numpy(float)
    sd = np.nanstd(x, axis=0)
    z = (x - np.nanmean(x, axis=0)) / np.where(sd > 0, sd, 1.0)
    z = np.nan_to_num(z)
    me = np.flatnonzero(f["practice_code"].to_numpy() == practice)
    if not len(me):
        return pd.DataFrame({"practice_code": [], "distance": []})
    d = np.sqrt(((z - z[me[0]]) ** 2).sum(axis=1))
    d[me[0]] = np.inf
    order = np.argsort(d, kind="stable")[:n]
    order = order[np.isfinite(d[order])]
    return pd.DataFrame({"practice_code": f["practice_code"].to_numpy()[order],
                         "distance": d[order]})


def synthetic_on_real(ds: Dataset) -> bool:
    """True when real practices carry synthetic referrals (the real-structure data): a
    referral finding about one of them is an illustration, never a fact about it, so in
    publish mode no page ties one to a practice or network (see
    :func:`helpers.analysis.context.withheld` and docs/real-data.md)."""
    prov = ds.provenance
    return "practices" in prov.get("real_tables", []) and \
        "referrals" in prov.get("synthetic_tables", [])


def public_code(ds: Dataset, code: str, level: str) -> str:
    """An area's code as published: the code itself at every level. Practices and networks
    are not renamed: a pseudonym printed beside a real attribute (a list size, a payment)
    names the practice to anyone with the open files, so real-structure pages that would
    need one are not published instead (docs/real-data.md)."""
    return code


def public_codes(ds: Dataset, codes: list[str]) -> dict[str, str]:
    """:func:`public_code` of many areas (codes as the data spells them) at once."""
    return {c: public_code(ds, c, "") for c in codes}


def _name_of(t: pd.DataFrame, level: str, code: str) -> str | None:
    """The name of the area of ``level`` coded ``code`` in :func:`area_table` ``t``, or None
    where there is none (compared column-wise: a set of the table's codes, built for each
    report, cost 4 ms a lookup)."""
    hit = t.loc[(t["level"] == level) & (t["code"] == code), "name"]
    return str(hit.iloc[0]) if len(hit) else None


_RESOLVED: dict[tuple[str, str, str], Area] = {}
RESOLVED_MAX = 20_000
"""Areas already resolved by this process, by dataset (its content hash and folder) and
code: a batch kernel resolves each area once for each notebook (a practice's peers and
similar 10 are 13 ms a time)."""


def resolve(ds: Dataset, code: str) -> Area:
    """The area a code names, case-insensitive; raises :class:`AreaError`. Remembered for
    a dataset loaded from files (one with a content hash)."""
    wanted = str(code).strip().upper()
    key = (ds.content_hash, str(ds.path), wanted)
    if ds.content_hash and key in _RESOLVED:
        return _RESOLVED[key]
    area = _resolve(ds, code, wanted)
    if ds.content_hash:
        if len(_RESOLVED) >= RESOLVED_MAX:
            _RESOLVED.clear()
        _RESOLVED[key] = area
    return area


def _resolve(ds: Dataset, code: str, wanted: str) -> Area:
    practices = ds.practices["practice_code"].astype(str)
    if wanted == ENGLAND:
        return Area("england", ENGLAND, "England", tuple(practices))
    t = area_table(ds)
    hit = t[t["code"].str.upper() == wanted]
    if hit.empty:
        counts = t["level"].value_counts()
        raise AreaError(
            f"area '{code}' is not in the data: not ENGLAND, nor one of "
            f"{counts.get('commissioner', 0):,} commissioners, {counts.get('network', 0):,} "
            f"networks or {counts.get('practice', 0):,} practices (codes such as "
            f"{t['code'].head(3).tolist()})")
    r = hit.iloc[0]
    comm = str(r["commissioner_code"])
    comm_name = _name_of(t, "commissioner", comm) or comm
    if r["level"] == "commissioner":
        members = practices[ds.practices["commissioner_code"].astype(str) == r["code"]]
        return Area("commissioner", r["code"], r["name"], tuple(members), r["code"], r["name"])
    if r["level"] == "network":
        g = ds.groups
        members = sorted(set(g.loc[g["group_code"].astype(str) == r["code"], "practice_code"]
                             .astype(str)))
        return Area("network", r["code"], r["name"], tuple(members), comm, comm_name)
    net = r["network_code"] if isinstance(r["network_code"], str) else None
    net_name = _name_of(t, "network", net) if net else None
    return Area("practice", r["code"], r["name"], (r["code"],), comm, comm_name, net,
                net_name, tuple(peers(t, r["code"])),
                tuple(similar_practices(ds, r["code"])["practice_code"]))


_IN = re.compile(r"^(networks|practices) in (\S+)$", re.I)


def expand(ds: Dataset, spec: str | list[str]) -> list[str]:
    """Area codes for a grid's ``areas``: ``all`` (England and every commissioner),
    ``everything`` (England and every commissioner, network and practice: a whole site),
    ``commissioners``, ``networks``, ``practices``, ``networks in <commissioner>``,
    ``practices in <commissioner>``, or a list of codes (any level, checked, spelt as the
    data spells them) and of those words."""
    t = area_table(ds)
    if isinstance(spec, list):
        out = []
        for item in spec:
            word = str(item).strip().lower()
            if word in ("all", "everything", "commissioners", "networks", "practices") or \
                    _IN.match(str(item).strip()):
                out += expand(ds, str(item))
            else:
                out.append(resolve(ds, item).code)
        return out
    s = spec.strip().lower()
    if s == "all":
        return [ENGLAND, *t.loc[t["level"] == "commissioner", "code"]]
    if s == "everything":               # the whole site: every area at every level
        return [ENGLAND, *(c for lv in ("commissioner", "network", "practice")
                           for c in t.loc[t["level"] == lv, "code"])]
    if s in ("commissioners", "networks", "practices"):
        return t.loc[t["level"] == s[:-1], "code"].tolist()
    m = _IN.match(spec.strip())
    if m:
        comm = resolve(ds, m.group(2))
        if comm.level != "commissioner":
            raise AreaError(f"'{m.group(2)}' is not a commissioner")
        level = m.group(1).lower()[:-1]
        return t.loc[(t["level"] == level) & (t["commissioner_code"] == comm.code),
                     "code"].tolist()
    raise AreaError(f"areas: '{spec}' is not a list of codes or one of all, everything, "
                    "commissioners, "
                    "networks, practices, 'networks in <commissioner>', "
                    "'practices in <commissioner>'")
