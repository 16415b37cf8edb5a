"""Downloading registered files: served from 127.0.0.1 by a local HTTP server that hands out
the real files, with retries, checksum checks and atomic writes."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading

import pytest

from helpers.sources import fetch, nhs_files


@pytest.fixture(scope="module")
def server(real_dir):
    state = {"fail_next": 0, "corrupt": False}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            if state["fail_next"] > 0:
                state["fail_next"] -= 1
                self.send_error(503, "busy")
                return
            if state["corrupt"]:
                body = b"not the file"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(real_dir)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()


def test_registry_checksums_match_the_real_files(real_dir):
    for dataset, d in fetch.registry().items():
        for period, e in d["files"].items():
            data = (real_dir / e["name"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == e["sha256"], (dataset, period)


def test_download_then_load(server, tmp_path):
    url, _ = server
    p = fetch.fetch("gp_payments", "2019-20", url, tmp_path)
    df = nhs_files.read_gp_payments(p)
    assert df.practice_code.nunique() > 6800


def test_retries_then_succeeds(server, tmp_path):
    url, state = server
    state["fail_next"] = 2
    p = fetch.fetch("epcn_membership", "2022-04", url, tmp_path, retries=3, backoff=0.01)
    assert p.exists() and state["fail_next"] == 0


def test_gives_up_and_leaves_nothing(server, tmp_path):
    url, state = server
    state["fail_next"] = 5
    with pytest.raises(fetch.FetchError, match="failed after 2 attempts"):
        fetch.fetch("epraccur", "2022-02", url, tmp_path, retries=2, backoff=0.01)
    state["fail_next"] = 0
    assert not list(tmp_path.iterdir())


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    url, state = server
    state["corrupt"] = True
    try:
        with pytest.raises(fetch.FetchError, match="checksum"):
            fetch.fetch("practice_imd", "all", url, tmp_path)
    finally:
        state["corrupt"] = False
    assert not list(tmp_path.iterdir())


def test_unknown_dataset_or_period():
    with pytest.raises(fetch.FetchError, match="unknown dataset 'gp_paymnets'"):
        fetch.entry("gp_paymnets", "2019-20")
    with pytest.raises(fetch.FetchError, match="no file registered for period '2030-31'"):
        fetch.entry("gp_payments", "2030-31")


def test_fetch_everything_then_build_the_real_dataset(server, tmp_path, real_dir):
    """A newcomer with internet access: download every published file, then build."""
    from helpers.datasets import load_dataset
    from helpers.sources import real_structure

    url, _ = server
    assert fetch.main(["--all", "--base-url", url, "--dest", str(tmp_path / "files")]) == 0
    got = sorted(p.name for p in (tmp_path / "files").iterdir())
    assert len(got) == sum(len(d["files"]) for d in fetch.registry().values())
    ds = load_dataset(real_structure.build(tmp_path / "files", tmp_path / "real"))
    assert len(ds.commissioners) == 42 and len(ds.practices) == 7410
