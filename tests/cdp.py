"""Drive headless Chromium from tests over the DevTools protocol: open a page (network
blocked), run JavaScript in it, read what it returns. Uses tornado's WebSocket client (a
Jupyter dependency), so no browser-automation package is needed."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1200,1600",
         "--allow-file-access-from-files"]


class Browser:
    """One headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, profile: Path):
        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}",
             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(profile) / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        pages = json.loads(urllib.request.build_opener(urllib.request.ProxyHandler({}))
                           .open(f"http://127.0.0.1:{port}/json/list", timeout=30).read())
        url = next(p["webSocketDebuggerUrl"] for p in pages if p.get("type") == "page")
        self.loop = IOLoop()
        self.ws = self.loop.run_sync(lambda: websocket_connect(url, max_message_size=2**28))
        self.n = 0

    def send(self, method: str, **params) -> dict:
        """Send one command and return its result (events in between are dropped)."""
        self.n += 1
        ident = self.n

        async def call():
            await self.ws.write_message(json.dumps({"id": ident, "method": method,
                                                    "params": params}))
            while True:
                msg = json.loads(await self.ws.read_message())
                if msg.get("id") == ident:
                    return msg
        msg = self.loop.run_sync(call, timeout=60)
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error']}")
        return msg.get("result", {})

    def js(self, expression: str):
        """Evaluate JavaScript in the page; its value (awaited if a promise)."""
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"JavaScript failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def open(self, path: Path) -> None:
        """Load a local page and wait until it has finished loading."""
        self.send("Page.navigate", url=Path(path).resolve().as_uri())
        for _ in range(300):
            if self.js("document.readyState") == "complete":
                return
            time.sleep(0.05)
        raise TimeoutError(f"{path} did not finish loading")

    def close(self) -> None:
        self.ws.close()
        self.loop.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
