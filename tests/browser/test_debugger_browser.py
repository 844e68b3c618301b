"""The interactive debugger in a real browser: headless Chromium driven by Playwright.

Serves ``tests/dev/debugger_apps/failing_app.py`` on a loopback port with a fixed
PIN, opens a failing page, unlocks the console, evaluates in a frame and saves a
full-page screenshot to ``tests/browser/screenshots/debugger.png``.

Needs Debian's Chromium at ``/usr/bin/chromium`` and the ``playwright`` Python
package (its bundled driver only; no browser download). Skipped without either.
"""

from __future__ import annotations

import collections.abc as cabc
import os
import pathlib
import re
import sys
import typing as t

import pytest

from tests.servers import ServerProcess
from tests.servers import free_port

CHROMIUM = "/usr/bin/chromium"

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"browser test needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="browser test needs the playwright Python package (pip install playwright)",
)

if t.TYPE_CHECKING:
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Locator
    from playwright.sync_api import Page

expect = sync_api.expect

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
APP_SCRIPT = os.path.join(TESTS, "dev", "debugger_apps", "failing_app.py")
SCREENSHOT_DIR = os.path.join(HERE, "screenshots")
SCREENSHOT = os.path.join(SCREENSHOT_DIR, "debugger.png")
PIN = "246-801-357"
WAIT_MS = 10_000
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def server(subprocess_env: dict[str, str]) -> cabc.Iterator[ServerProcess]:
    """The failing app behind the debugger, one process, fixed PIN."""
    env = dict(subprocess_env)
    env["ERLEN_DEBUG_PIN"] = PIN
    env.pop("ERLEN_DEBUGGER_PIN", None)
    env.pop("ERLEN_DEBUGGER_KEY", None)
    port = free_port()
    with ServerProcess([sys.executable, APP_SCRIPT, str(port)], port, env=env) as proc:
        yield proc


@pytest.fixture
def context(tmp_path: pathlib.Path) -> cabc.Iterator[BrowserContext]:
    """A headless Chromium with a fresh profile; closed afterwards."""
    with sync_api.sync_playwright() as playwright:
        ctx = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1100, "height": 800},
            timeout=WAIT_MS * 2,
        )
        try:
            ctx.set_default_timeout(WAIT_MS)
            ctx.set_default_navigation_timeout(WAIT_MS)
            yield ctx
        finally:
            ctx.close()


def _console_run(frame: Locator, command: str, expected: str) -> None:
    """Type ``command`` into the frame's console, press Enter, wait for its answer."""
    console_input = frame.locator(".console-input")
    console_input.fill(command)
    console_input.press("Enter")
    output = frame.locator(".console-output")
    expect(output).to_contain_text(f">>> {command}\n{expected}\n", timeout=WAIT_MS)


def _note_console(problems: list[str], kind: str, text: str) -> None:
    # A response's error status is reported as a console error too; statuses are
    # checked on their own, so only script errors and warnings count here.
    if kind in ("error", "warning") and not text.startswith("Failed to load resource"):
        problems.append(f"console {kind}: {text}")


def test_debugger_page_in_chromium(server: ServerProcess, context: BrowserContext) -> None:
    page: Page = context.pages[0] if context.pages else context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda msg: _note_console(problems, msg.type, msg.text))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    statuses: list[tuple[str, int]] = []
    page.on("response", lambda resp: statuses.append((resp.url, resp.status)))

    # The failing page, with a Host the debugger trusts.
    response = page.goto(f"http://localhost:{server.port}/plain", wait_until="load")
    assert response is not None and response.status == 500
    assert response.headers["content-type"].startswith("text/html")
    expect(page.locator("#title")).to_have_text("ValueError: plain failure local-marker-123 42")
    # The stylesheet loaded under the page's CSP (the heading takes its accent colour).
    expect(page.locator("#title")).to_have_css("color", "rgb(180, 35, 24)")

    app_frames = page.locator(".frame.app")
    failing = app_frames.filter(has=page.locator(".function", has_text=re.compile(r"(^|\.)plain$")))
    expect(failing).to_have_count(1)
    expect(failing).to_be_visible()
    expect(failing.locator("tr.current")).to_contain_text('raise ValueError(f"plain failure')
    expect(failing.locator(".filename")).to_contain_text("failing_app.py")
    library = page.locator(".frame.library")
    assert library.count() >= 1
    # Library frames start hidden because the traceback has app frames.
    expect(page.locator("#toggle-library")).to_be_checked()
    expect(library.first).to_be_hidden()

    # The PIN prompt is shown; a wrong PIN is refused, the right one unlocks.
    pin_form = page.locator("#pin-form")
    expect(pin_form).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-pin-required", "yes")
    page.locator("#pin-input").fill("000-000-000")
    page.locator("#pin-submit").click()
    expect(page.locator("#pin-message")).to_contain_text("Wrong PIN.")
    expect(page.locator("#pin-input")).to_have_value("")
    page.locator("#pin-input").fill(PIN)
    page.locator("#pin-submit").click()
    expect(pin_form).to_be_hidden()
    expect(page.locator("body")).to_have_attribute("data-pin-required", "no")

    # The failing frame's console: open it, evaluate, read the answers.
    toggle = failing.locator(".console-toggle")
    console = failing.locator(".console")
    expect(console).to_be_hidden()
    toggle.click()
    expect(console).to_be_visible()
    expect(toggle).to_have_text("Close console")
    expect(failing.locator(".console-input")).to_be_focused()
    _console_run(failing, "1 + 1", "2")
    _console_run(failing, "marker", "'local-marker-123'")
    _console_run(failing, "number + 1", "42")
    _console_run(failing, "print(len(marker))", "16")
    # The frame's locals, in the page itself.
    failing.locator("details.locals summary").click()
    marker_row = failing.locator("table.locals-table tr").filter(
        has=page.locator("th", has_text=re.compile(r"^marker$"))
    )
    expect(marker_row.locator("td")).to_have_text("'local-marker-123'")
    # History on the arrow keys brings back the last command.
    failing.locator(".console-input").press("ArrowUp")
    expect(failing.locator(".console-input")).to_have_value("print(len(marker))")
    failing.locator(".console-input").fill("")

    # The library-frame toggle shows and hides the library frames.
    page.locator("#toggle-library").uncheck()
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bhide-library\b"))
    expect(library.first).to_be_visible()
    page.locator("#toggle-library").check()
    expect(page.locator("body")).to_have_class(re.compile(r"\bhide-library\b"))
    expect(library.first).to_be_hidden()
    expect(failing).to_be_visible()

    os.makedirs(SCREENSHOT_DIR, exist_ok=True)
    if os.path.exists(SCREENSHOT):
        os.remove(SCREENSHOT)
    page.screenshot(path=SCREENSHOT, full_page=True)
    with open(SCREENSHOT, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    assert problems == [], problems
    base = f"http://localhost:{server.port}"
    seen = {(url.removeprefix(base), status) for url, status in statuses}
    assert ("/__debugger__/static/debugger.css", 200) in seen
    assert ("/__debugger__/static/debugger.js", 200) in seen
    # The failing page itself and the wrong PIN; nothing else failed.
    assert sorted(s for s in seen if s[1] >= 400) == [("/__debugger__/pin", 403), ("/plain", 500)]
