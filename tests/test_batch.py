"""The batch runner end to end on the small preset: outputs, checks, HTML, publish mode,
determinism and grid validation."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

from helpers import catalogue
from helpers.paths import project_root
from helpers.run import batch, kernels, site
from helpers.run.checks import lint
from helpers.run.grid import GridError, Job
from helpers.run.render import network_references

GRID = project_root() / "config" / "grids" / "small.yaml"


def _code_state() -> dict[str, str]:
    """SHA-256 of each file a report is made from: the helpers, the page template, the
    notebooks and the grid."""
    root = project_root()
    files = [*(root / "src" / "helpers").rglob("*"), *(root / "notebooks").glob("*.ipynb"),
             GRID]
    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(files) if f.is_file() and "__pycache__" not in f.parts}


CHANGED_DURING_RUNS: list[str] = []
"""Files that changed between the start of the first run and the end of the second."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory, small):
    root = tmp_path_factory.mktemp("reports")
    before = _code_state()
    n1, out1 = batch.run(GRID, jobs_n=2, run_id="run1", out_root=root, timeout=300)
    # in a folder of its own: each run is a first run, with nothing to say changed since
    # an earlier one (an area page's 'Since' section), so the two can be compared whole
    n2, out2 = batch.run(GRID, jobs_n=2, run_id="run2", timeout=300,
                         out_root=tmp_path_factory.mktemp("reports_again"))
    after = _code_state()
    CHANGED_DURING_RUNS[:] = sorted(f for f in before.keys() | after.keys()
                                    if before.get(f) != after.get(f))
    return root, (n1, out1), (n2, out2)


def test_every_report_succeeds(runs):
    _, (n1, out1), _ = runs
    manifest = json.loads((out1 / "manifest.json").read_text())
    assert n1 == 0, [r["error"] for r in manifest["reports"] if r["status"] != "ok"]
    # every notebook but those about tables synthetic data lack (04: real indicators)
    n_notebooks = sum(not catalogue.get(n).requires for n in catalogue.names())
    assert len(manifest["reports"]) == n_notebooks * 3   # × (2 commissioners + England)
    for r in manifest["reports"]:
        assert r["status"] == "ok" and r["duration_s"] > 0
        for kind in ("notebook", "html", "results"):
            assert (out1 / r["files"][kind]).exists()
    assert manifest["git"]["commit"] and "dirty" in manifest["git"]
    assert manifest["versions"]["papermill"] and manifest["data_hash"]
    assert len(manifest["grid_sha256"]) == 64
    env = manifest["environment"]                  # the lock beside the package versions
    assert env["file"] == "uv.lock" and len(env["sha256"]) == 64 and env["matches"]
    index = (out1 / "index.html").read_text()
    assert f"environment as locked (uv.lock {env['sha256'][:10]})" in index


def test_index_links_every_report(runs):
    _, (_, out1), _ = runs
    index = (out1 / "index.html").read_text()
    manifest = json.loads((out1 / "manifest.json").read_text())
    for r in manifest["reports"]:
        assert f'href="{r["files"]["html"]}"' in index
    assert not network_references(index)


def _html_files(out):
    """The report pages of a run (not its area pages)."""
    return sorted(p for p in out.glob("*/*.html") if p.parent.name != site.AREAS_DIR)


def test_html_is_self_contained_and_clean(runs):
    _, (_, out1), _ = runs
    for f in _html_files(out1):
        page = f.read_text()
        assert not network_references(page), f
        assert "report.start(" not in page and "import " not in page   # no code
        assert "injected-parameters" not in page and "results_path" not in page.split(
            "pack-footer")[0]
        text = re.sub(r"<style.*?</style>", "", page, flags=re.S)
        assert not re.search(r"(?<!\w)\w*Warning\b", text), f   # no warnings shown
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in text
        assert 'class="pack-toc"' in page and 'class="pack-footer"' in page
        # charts are inline SVG with their alt text, and nothing in them is a script
        svgs = [t for t in re.findall(r"<svg\b[^>]*>", page) if 'class="pack-chart"' in t]
        assert svgs and all('role="img"' in t and re.search(r'aria-label="[^"]{20,}"', t)
                            for t in svgs), f
        assert "<img src=\"data:image/png" not in page       # no chart left as a PNG
        assert re.search(r"<title>[^<]+—[^<]+</title>", page)


def test_every_report_passes_the_report_lint(runs):
    """The post-run lint, re-run here on the files the run left."""
    _, (_, out1), _ = runs
    manifest = json.loads((out1 / "manifest.json").read_text())
    for r in manifest["reports"]:
        nb = json.loads((out1 / r["files"]["notebook"]).read_text())
        page = (out1 / r["files"]["html"]).read_text()
        assert lint(nb, page) == [], r["report_id"]


def test_two_runs_are_identical_apart_from_the_run_stamp(runs):
    """Two runs of one grid on one data and code write the same bytes (results files) and
    pages (but for the run stamp). Runs made while the pack's code changed under them (a
    commit between the two) are not two runs of one code: said so, not compared."""
    if CHANGED_DURING_RUNS:
        pytest.skip("the pack's code changed while the two runs were made: "
                    + ", ".join(CHANGED_DURING_RUNS[:5]))
    _, (_, out1), (_, out2) = runs
    for f1 in sorted(out1.glob("*/*.results.json")):
        f2 = out2 / f1.relative_to(out1)
        assert f1.read_bytes() == f2.read_bytes(), f1.name
    areas = sorted((out1 / site.AREAS_DIR).glob("*.html"))
    assert areas
    for f1 in _html_files(out1) + areas:
        a = re.sub(r"·\s+run run1</footer>", "· run RUN</footer>", f1.read_text())
        b = re.sub(r"·\s+run run2</footer>", "· run RUN</footer>",
                   (out2 / f1.relative_to(out1)).read_text())
        assert "· run RUN</footer>" in a
        assert a == b, f1.name


def test_only_and_rerun_failed(runs):
    root, (_, out1), _ = runs
    n, out = batch.run(GRID, jobs_n=1, only="00_data_overview/q01", run_id="only",
                       out_root=root)
    m = json.loads((out / "manifest.json").read_text())
    assert n == 0 and [r["report_id"] for r in m["reports"]] == ["00_data_overview/q01"]
    # make one report fail, then repeat just the failure into the same run
    m["reports"][0]["status"] = "failed"
    (out / "manifest.json").write_text(json.dumps(m))
    (root / "latest.txt").write_text("only\n")
    n, out = batch.run(GRID, jobs_n=1, rerun_failed=True, out_root=root)
    m2 = json.loads((out / "manifest.json").read_text())
    assert n == 0 and out.name == "only"
    assert [r["status"] for r in m2["reports"]] == ["ok"]
    assert m2["reports"][0]["commit"] == m2["git"]["commit"]     # the commit that made it
    assert not list(root.glob(".build-*"))


def test_rerun_failed_refuses_other_data_or_grid(runs, tmp_path):
    root, (_, out1), _ = runs
    (root / "latest.txt").write_text(out1.name + "\n")
    m = json.loads((out1 / "manifest.json").read_text())
    (out1 / "manifest.json").write_text(json.dumps(dict(m, data_hash="0000000000000000")))
    try:
        with pytest.raises(GridError, match="refused: run run1 used data 0000000000000000"):
            batch.run(GRID, jobs_n=1, rerun_failed=True, out_root=root)
        other = tmp_path / "grid.yaml"
        other.write_text(GRID.read_text() + "# edited\n")
        (out1 / "manifest.json").write_text(json.dumps(m))
        with pytest.raises(GridError, match="the grid file changed since run run1"):
            batch.run(other, jobs_n=1, rerun_failed=True, out_root=root)
        # pages made by other code are not mixed with new ones
        (out1 / "manifest.json").write_text(json.dumps(dict(m, git={"commit": "0" * 40})))
        with pytest.raises(GridError, match="run run1 was made by commit 0000000000"):
            batch.run(GRID, jobs_n=1, rerun_failed=True, out_root=root)
    finally:
        (out1 / "manifest.json").write_text(json.dumps(m))


def test_run_ids_are_unique_and_never_reused(runs):
    root, (_, out1), _ = runs
    assert len({batch.new_run_id() for _ in range(50)}) == 50
    with pytest.raises(GridError, match="run id run1 is taken"):
        batch.run(GRID, jobs_n=1, only="00_data_overview/q01", run_id="run1", out_root=root)


def test_killed_runs_and_kernel_folders_are_swept(tmp_path):
    dead = 2 ** 22 + 12345                      # above the default pid_max: never alive
    stale = tmp_path / f".build-20260101T000000Z-abc123-{dead}"
    stale.mkdir()
    live = tmp_path / f".build-20260101T000000Z-abc124-{os.getpid()}"
    live.mkdir()
    assert batch.sweep_builds(tmp_path) == [stale] and live.exists()
    (tmp_path / f"pk-{dead}-x1").mkdir()
    (tmp_path / f"pk-{os.getpid()}-x2").mkdir()
    assert kernels.sweep_stale(tmp_path) == 1
    assert [p.name for p in tmp_path.glob("pk-*")] == [f"pk-{os.getpid()}-x2"]


def test_failed_report_is_reported_not_fatal(tmp_path, small):
    job = Job("01_referral_variation", "Q01",
                    {"data_source": "synthetic:small", "area": "Q01",
                     "specialty": "999", "publish": True}, "01_referral_variation/q01")
    prov = {"data_source": "synthetic:small", "git": {"commit": "x", "dirty": False},
            "run_id": "t"}
    out = batch.run_job(job, str(tmp_path), 120, prov)
    assert out.status == "failed" and "specialty '999' is not in the data" in out.error


def test_a_reused_kernel_keeps_one_client_and_no_queued_output(tmp_path, small):
    """A worker reuses one kernel client for all its reports, and never more than one: a
    second open client would keep an IOPub socket queueing every later report's output in
    the worker (a leak of about 12 MB a report once). Retiring the kernel closes it."""
    import gc

    from jupyter_client.client import KernelClient

    prov = {"data_source": "synthetic:small", "git": {"commit": "x", "dirty": False},
            "run_id": "t"}
    for area in ("Q01", "Q02", "Q01"):
        job = Job("00_data_overview", area, {"data_source": "synthetic:small", "area": area,
                                              "publish": True}, f"00_data_overview/{area}")
        assert batch.run_job(job, str(tmp_path), 120, prov).status == "ok"
    assert kernels._state["km"] is not None          # the kernel was reused, not restarted

    def open_clients():
        gc.collect()
        return [o for o in gc.get_objects()
                if isinstance(o, KernelClient) and o.channels_running]

    assert open_clients() == [kernels._state["kc"]]
    from jupyter_client.utils import run_sync

    kc, queued = kernels._state["kc"], []
    while run_sync(kc.iopub_channel.msg_ready)():    # only the last kernel-info status pair
        queued.append(run_sync(kc.iopub_channel.get_msg)(timeout=5)["msg_type"])
    assert queued == ["status", "status"]             # no report output left queued
    said: list[str] = []                              # and it writes no input history
    run_sync(kc.execute_interactive)("print(get_ipython().history_manager.enabled)",
                                     timeout=30, store_history=False,
                                     output_hook=lambda m: said.append(
                                         m["content"].get("text") or ""))
    assert "".join(said).strip() == "False"
    kernels.retire()
    assert open_clients() == []


def test_a_kernel_over_its_memory_limit_is_recycled_before_the_next_report(
        tmp_path, small, monkeypatch):
    """Kernels are kept for hundreds of reports (a restart costs about 2.5 core-s), so
    memory is bounded by measuring it: a kernel whose unique memory is over
    ``KERNEL_MEMORY_MB`` is replaced before its next report, and one under it is kept."""
    import os

    assert kernels.unique_memory_mb(os.getpid()) > 10       # this process, measured
    assert kernels.unique_memory_mb(None) == 0.0
    prov = {"data_source": "synthetic:small", "git": {"commit": "x", "dirty": False},
            "run_id": "t"}

    def report(area):
        job = Job("00_data_overview", area, {"data_source": "synthetic:small", "area": area,
                                              "publish": True}, f"00_data_overview/{area}")
        assert batch.run_job(job, str(tmp_path), 120, prov).status == "ok"
        return kernels._state["km"]

    first = report("Q01")
    assert report("Q02") is first                       # under the limit: kept
    monkeypatch.setattr(kernels, "KERNEL_MEMORY_MB", 1)
    third = report("Q01")
    assert third is not first and not first.has_kernel  # over it: shut down, replaced
    kernels.retire()


def test_key_figures_are_the_locked_environments(runs):
    """The small grid's key figures as the environment in uv.lock computes them
    (tests/fixtures/expected_small.json, written from a fresh clone built with `make setup`):
    another version of pandas, statsmodels, csdid or gpboost that moves a published number
    fails here, not silently in a report."""
    _, (_, out1), _ = runs
    expected = json.loads((project_root() / "tests" / "fixtures" /
                           "expected_small.json").read_text())
    for key, value in expected.items():
        report, path = key.split(":")
        got = json.loads((out1 / f"{report}.results.json").read_text())
        for part in path.split("."):
            got = got[part]
        assert got == pytest.approx(value, rel=1e-6, abs=1e-9), (key, got, value)


@pytest.mark.parametrize("run_id", [".build-x-999999", "a/b", "../up", "", "-x"])
def test_run_ids_that_would_hide_climb_or_collide_are_refused(run_id, tmp_path):
    with pytest.raises(GridError, match="use letters, digits"):
        batch.run(GRID, jobs_n=1, run_id=run_id, out_root=tmp_path)


def test_an_out_folder_that_cannot_be_written_is_refused(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(GridError, match="cannot write reports there"):
        batch.run(GRID, jobs_n=1, out_root=not_a_folder)


def test_failed_reports_are_set_aside_out_of_the_published_run(tmp_path):
    """A report that fails its checks leaves nothing in the run folder: its page, notebook
    and results are moved to <run id>-failed-reports/ and its error says so."""
    build, aside = tmp_path / "build", tmp_path / "r1-failed-reports"
    (build / "01_referral_variation").mkdir(parents=True)
    for suffix in (".html", ".ipynb", ".results.json"):
        (build / "01_referral_variation" / f"q01{suffix}").write_text("x")
    j = Job("01_referral_variation", "Q01", {}, "01_referral_variation/q01",
            status="failed", error="RuntimeError: report lint: live script",
            files={"html": "01_referral_variation/q01.html",
                   "notebook": "01_referral_variation/q01.ipynb",
                   "results": "01_referral_variation/q01.results.json"})
    batch._set_aside([j], build, aside)
    assert not list(build.rglob("*.*"))
    assert (aside / "01_referral_variation" / "q01.html").exists()
    assert j.files == {} and str(aside) in j.error


def test_the_page_is_nbconverts_own_without_its_second_parse(runs):
    """The pack's exporter skips nbconvert's BeautifulSoup pass over the page and adds the
    same alt text and keyboard stops by pattern: on every notebook of the run the two
    exporters give the same document tree, and every output is a keyboard stop."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from helpers.run import render

    _, (_, out1), _ = runs
    manifest = json.loads((out1 / "manifest.json").read_text())
    seen = set()
    for r in manifest["reports"]:
        if r["notebook"] in seen:
            continue
        seen.add(r["notebook"])
        nb = nbformat.read(out1 / r["files"]["notebook"], as_version=4)
        render._clean_outputs(nb)
        ours, _ = render._exporter().from_notebook_node(nb)
        plain = HTMLExporter(template_name="pack", extra_template_basedirs=[
            str(render.TEMPLATES)], exclude_input=True, exclude_input_prompt=True,
            exclude_output_prompt=True, optimistic_validation=True,
            config=render._exporter().config)
        plain.register_preprocessor(render.TagRemovePreprocessor(
            remove_cell_tags=render.REMOVE_TAGS, enabled=True), enabled=True)
        theirs, _ = plain.from_notebook_node(nb)
        assert BeautifulSoup(ours, "html.parser") == BeautifulSoup(theirs, "html.parser"), \
            r["report_id"]
        outputs = re.findall(r'<div class="[^"]*jp-OutputArea-output[^"]*"[^>]*>', ours)
        assert outputs and all('tabindex="0"' in d for d in outputs)
        assert not re.search(r"<img(?![^>]*\balt=)", ours)
    assert len(seen) == 4


def test_caches_are_warmed_once_in_a_child_process(tmp_path, monkeypatch, small):
    """A cold cache is warmed in a child process (its memory goes back when it ends, not
    kept by the batch for the whole run), once per notebook and parameter set; a second
    run finds the markers and does nothing."""
    from helpers.paths import synthetic_dir
    from helpers.run.grid import load_grid
    from helpers.sources import open_source

    data = tmp_path / "data"
    (data / "synthetic").mkdir(parents=True)
    (data / "synthetic" / "small").symlink_to(synthetic_dir("small"))
    monkeypatch.setenv("PACK_DATA", str(data))
    # cold, through the command as `make reports` runs it: the child re-imports the batch
    # as its main module, which keeps pyarrow out of pool workers but not out of the warm-up
    one = tmp_path / "one.yaml"
    one.write_text("data_source: synthetic:small\npublish: true\n"
                   "notebooks: [01_referral_variation]\nareas: [Q01]\n")
    done = subprocess.run([sys.executable, "-m", "helpers.run.batch", "--grid", str(one),
                           "--jobs", "1", "--out", str(tmp_path / "r"), "--run-id", "t"],
                          cwd=project_root(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "0 failed" in done.stdout
    assert len(list((data / "cache").rglob("warm-*.done"))) == 1
    grid = tmp_path / "g.yaml"
    grid.write_text("data_source: synthetic:small\npublish: true\nnotebooks: all\n"
                    "areas: [Q01, Q02]\n")
    _, jobs = load_grid(grid)
    ds = open_source("synthetic:small")
    warmed = batch.warm_caches(ds, jobs)
    assert sorted(warmed) == sorted({j.notebook for j in jobs
                                     if catalogue.get(j.notebook).warm != "none"}
                                    - {"01_referral_variation"})
    markers = list((data / "cache").rglob("warm-*.done"))
    assert len(markers) == len(warmed) + 1
    assert batch.warm_caches(ds, jobs) == []
