"""A grid of sampled areas at every level, for quality runs (``make quality``).

Every report must be right at the smallest area it serves, so a quality run samples the
areas where pages go wrong: England and every commissioner; every network of some
commissioners (networks of one practice and of many); every closed or merged practice of
some commissioners; the smallest and the largest practices; and a seeded random draw of the
rest, up to the number asked for. The grid lists codes, so the run is repeatable
and its counts can be quoted.

    python -m helpers.run.sample_grid --data data/real_england --out grid.yaml \\
        [--commissioners 3|all] [--practices 200] [--seed 1]

``--commissioners all`` lists every network in England (the full network run of
``make quality-networks``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml

from helpers.analysis.areas import area_table, public_codes
from helpers.atomic import write_text_atomic
from helpers.schema import ENGLAND
from helpers.sources import open_source


def sample_areas(data: str, commissioners: int | None = 3, practices: int = 200,
                 seed: int = 1) -> dict[str, list[str]]:
    """The sampled areas by kind (codes as published): ``top`` (England and every
    commissioner), ``networks`` (every network of the ``commissioners`` commissioners
    with most networks; every network in England when ``commissioners`` is None), ``closed`` (every closed practice of the two commissioners with
    most), ``extremes`` (the 10 smallest and 10 largest practices at their latest count)
    (not already among the closed) and ``random`` (a seeded draw bringing the practices to
    ``practices``); no area is listed twice."""
    ds = open_source(data)
    t = area_table(ds)
    comms = t.loc[t["level"] == "commissioner", "code"].tolist()
    nets = t[t["level"] == "network"]
    pick = nets["commissioner_code"].value_counts().index
    if commissioners is not None:
        pick = pick[:commissioners]
    networks = sorted(nets.loc[nets["commissioner_code"].isin(pick), "code"])
    pr = t[t["level"] == "practice"].copy()
    closed_codes = set(ds.practices.loc[ds.practices["close_date"].notna(),
                                        "practice_code"].astype(str))
    pr["closed"] = pr["code"].isin(closed_codes)
    two = pr[pr["closed"]]["commissioner_code"].value_counts().head(2).index
    closed = sorted(pr.loc[pr["closed"] & pr["commissioner_code"].isin(two), "code"])
    sized = pr.dropna(subset=["list_size"]).sort_values("list_size")
    extremes = sorted((set(sized["code"].head(10)) | set(sized["code"].tail(10)))
                      - set(closed))
    taken = set(closed) | set(extremes)
    rest = sorted(set(pr["code"]) - taken)
    n = max(0, practices - len(taken))
    rng = np.random.default_rng(seed)
    drawn = sorted(rng.choice(rest, size=min(n, len(rest)), replace=False).tolist())
    codes = {"top": [ENGLAND, *comms], "networks": networks, "closed": closed,
             "extremes": extremes, "random": drawn}
    public = public_codes(ds, [c for v in codes.values() for c in v])
    return {k: [public[c] for c in v] for k, v in codes.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="data source (a folder or synthetic:NAME)")
    ap.add_argument("--out", required=True, type=Path, help="grid file to write")
    ap.add_argument("--commissioners", default="3",
                    type=lambda v: None if v == "all" else int(v),
                    help="how many commissioners' networks (those with most), or 'all'")
    ap.add_argument("--practices", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--publish", action=argparse.BooleanOptionalAction, default=True)
    a = ap.parse_args(argv)
    s = sample_areas(a.data, a.commissioners, a.practices, a.seed)
    areas = [c for v in s.values() for c in v]
    head = "".join(f"# {k}: {len(v)}\n" for k, v in s.items())
    write_text_atomic(a.out, f"# sampled by helpers.run.sample_grid (seed {a.seed})\n" + head
                      + yaml.safe_dump({"data_source": a.data, "publish": a.publish,
                                        "areas": areas, "notebooks": "all"},
                                       sort_keys=False))
    print(f"{a.out}: {len(areas)} areas ({', '.join(f'{k} {len(v)}' for k, v in s.items())})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
