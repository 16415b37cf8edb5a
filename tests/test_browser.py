"""A rendered report and the index open in headless Chromium with the network blocked:
the page renders, logs no console errors and makes no external requests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from helpers.paths import project_root
from helpers.run import batch

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not installed (Debian package 'chromium'; .ci/run "
    "installs it)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
         "--window-size=1200,1600", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, small):
    root = tmp_path_factory.mktemp("browser")
    n, out = batch.run(project_root() / "config" / "grids" / "small.yaml", jobs_n=2,
                       only="/q01", run_id="b", out_root=root)
    assert n == 0
    return out


def _open(page, tmp_path, name):
    shot = tmp_path / f"{name}.png"
    netlog = tmp_path / f"{name}.netlog.json"
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / ('profile-' + name)}",
         f"--screenshot={shot}", f"--log-net-log={netlog}", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    return proc, shot, netlog


def _requested_urls(netlog) -> list[str]:
    """URLs the page itself asked for. Chromium's own service calls (update checks, clock,
    sign-in probes) carry the initiator "not an origin" and are not the report's doing."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for e in log.get("events", []):
        p = e.get("params") or {}
        if e.get("type") == start and p.get("initiator") != "not an origin":
            urls.append(p.get("url", ""))
    return urls


@pytest.mark.parametrize("which", ["index", "report"])
def test_page_renders_offline(rendered, tmp_path, which):
    page = rendered / "index.html" if which == "index" else \
        rendered / "01_referral_variation" / "q01.html"
    proc, shot, netlog = _open(page, tmp_path, which)
    assert shot.exists() and shot.stat().st_size > 20_000, proc.stderr[-2000:]
    console_errors = [ln for ln in proc.stderr.splitlines()
                      if "CONSOLE" in ln and ("Error" in ln or "Uncaught" in ln)]
    assert not console_errors, console_errors
    external = [u for u in _requested_urls(netlog)
                if u.startswith(("http://", "https://", "ws://", "wss://"))]
    assert not external, external


MEASURE = """<script>
const h = [...document.querySelectorAll('h2')].find(e => e.textContent.trim().replace('¶', '') === 'Headline');
const first = h.closest('.jp-Cell').nextElementSibling.querySelector('li, p');
document.body.setAttribute('data-headline-top', Math.round(h.getBoundingClientRect().top));
document.body.setAttribute('data-first-line-bottom',
                           Math.round(first.getBoundingClientRect().bottom));
</script>"""


@pytest.mark.parametrize("notebook", ["00_data_overview", "01_referral_variation",
                                      "02_federation_scale", "03_contract_forms"])
def test_headline_is_on_the_first_screen_of_a_laptop(rendered, tmp_path, notebook):
    """At 1366×768 the headline and its first finding are visible without scrolling."""
    page = tmp_path / "measure.html"
    page.write_text((rendered / notebook / "q01.html").read_text().replace(
        "</body>", MEASURE + "</body>"))
    proc = subprocess.run(
        [CHROMIUM, *[f for f in FLAGS if not f.startswith("--window-size")],
         "--window-size=1366,768", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         page.as_uri()], capture_output=True, text=True, timeout=120)
    top = re.search(r'data-headline-top="(\d+)"', proc.stdout)
    bottom = re.search(r'data-first-line-bottom="(\d+)"', proc.stdout)
    assert top and bottom, proc.stderr[-1500:]
    assert int(bottom.group(1)) <= 768, (notebook, top.group(1), bottom.group(1))


def test_the_check_catches_an_external_request(tmp_path):
    """Negative control: a page that loads a CDN script is caught by the same check."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body><p>x</p><script src="https://cdn.example.org/x.js">'
                    "</script></body></html>")
    _, _, netlog = _open(page, tmp_path, "bad")
    assert any("cdn.example.org" in u for u in _requested_urls(netlog))
