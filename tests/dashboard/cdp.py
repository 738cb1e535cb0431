"""Just enough of the Chrome DevTools Protocol to act as an operator: type, click, read the page.

`--dump-dom` and `--screenshot` load one URL and exit; signing in needs a browser that keeps its
cookies between pages and submits a form. This starts headless Chromium with a debugging port,
attaches to its page over a websocket (the `websockets` of uvicorn[standard]) and sends the
mouse and keyboard input a person would. Evaluating an expression to read the page (its URL,
its HTML, where a button is) is DevTools' doing, not the page's: the pages still run no script.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

TIMEOUT = 30.0


class Page:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.last_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        ask = self.last_id
        self.ws.send(json.dumps({"id": ask, "method": method, "params": params}))
        while True:  # events arrive in between; only the answer is wanted
            message = json.loads(self.ws.recv(timeout=TIMEOUT))
            if message.get("id") == ask:
                assert "error" not in message, f"{method}: {message['error']}"
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return answer["result"].get("value")

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def wait_for(self, expression: str, what: str) -> None:
        """Until `expression` is true in a fully loaded document (navigations take a moment)."""
        deadline = time.monotonic() + TIMEOUT
        check = f"document.readyState === 'complete' && Boolean({expression})"
        while time.monotonic() < deadline:
            with contextlib.suppress(AssertionError):  # the document went away mid-evaluation
                if self.evaluate(check) is True:
                    return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; at {self.evaluate('location.href')}")

    def html(self) -> str:
        return str(self.evaluate("document.documentElement.outerHTML"))

    def type_into(self, selector: str, text: str) -> None:
        self.click(selector)
        self.call("Input.insertText", text=text)

    def click(self, selector: str) -> None:
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        assert box is not None, f"nothing matches {selector}"
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot")["data"]))
        return path


@contextlib.contextmanager
def chromium_page(binary: str, flags: list[str], profile: Path) -> Iterator[Page]:
    """A headless Chromium on about:blank, its page attached; stopped (by its pid) at the end."""
    process = subprocess.Popen(
        [binary, *flags, f"--user-data-dir={profile}", "--remote-debugging-port=0",
         "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        address = _page_address(_debugging_port(profile, process))
        with connect(address, max_size=None, open_timeout=10) as ws:
            yield Page(ws)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _page_address(port: int) -> str:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as found:
            pages = [t for t in json.load(found) if t["type"] == "page"]
        if pages:
            return str(pages[0]["webSocketDebuggerUrl"])
        time.sleep(0.05)
    raise AssertionError("chromium shows no page to attach to")


def _debugging_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    """Chromium writes the port it chose to DevToolsActivePort in its profile."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"chromium exited with {process.returncode}"
        if marker.exists() and (lines := marker.read_text().splitlines()):
            return int(lines[0])
        time.sleep(0.05)
    raise AssertionError("chromium did not open its debugging port")
