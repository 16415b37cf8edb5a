"""Pages in headless Chromium for the browser tests, through Playwright (pytest-playwright's
``page`` fixture): the system Chromium (``executable_path``, no browser download), the
network blocked, every request and console error a page makes recorded, and axe-core
(``tests/fixtures/axe.min.js``) run in it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not installed (Debian package 'chromium'; .ci/run "
    "installs it)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         "--host-resolver-rules=MAP * ~NOTFOUND"]
"""Chromium with nothing of its own reaching a network, and any address the page asks for
going nowhere."""
AXE = Path(__file__).resolve().parent / "fixtures" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
"""axe-core's rules for WCAG 2.0, 2.1 and 2.2, levels A and AA."""


@dataclass
class Opened:
    """What a page did while it was open: requests (every URL) and console errors."""
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def external(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file:", "data:", "about:"))]


def open_page(page, path: Path) -> Opened:
    """Load a local page with every request outside the page's own folder tree refused
    (and recorded), and wait until it has loaded and its sortable tables are built."""
    seen = Opened()
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        ("file:", "data:")) else route.abort())
    page.goto(Path(path).resolve().as_uri(), wait_until="load")
    # sortable tables are built by their library after the load: wait until each is
    page.wait_for_function("""() => [...document.querySelectorAll('table.pack-sortable')]
        .every(t => t.getAttribute('data-ready'))""", timeout=30_000)
    return seen


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.0/2.1/2.2 A and AA violations on the open page (id, impact, help
    and the first few offending elements of each)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                           resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""", WCAG_TAGS)
    return found
