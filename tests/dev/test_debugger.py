"""The interactive debugger: formats, content, the console, the PIN, and its guards.

In-process tests call the middleware as a WSGI app; ``dev_server`` tests run
``tests/dev/debugger_apps/failing_app.py`` on a real development server.
"""

from __future__ import annotations

import collections.abc as cabc
import io
import json
import os
import re
import sys
import typing as t
import urllib.parse

import pytest

from erlen import Erlen
from erlen.dev.debugger import DebuggedApplication
from erlen.dev.debugger import host_is_trusted
from erlen.dev.debugger import pin as pin_mod
from erlen.dev.debugger.console import Console
from erlen.dev.debugger.tbtools import is_library_file
from erlen.dev.debugger.tbtools import safe_repr
from tests.dev.debugger_apps.failing_app import create_app
from tests.servers import ServerProcess
from tests.servers import free_port

PIN = "111-222-333"
APP_SCRIPT = os.path.join(os.path.dirname(__file__), "debugger_apps", "failing_app.py")
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"Accept": "application/json"}


class Result(t.NamedTuple):
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> t.Any:
        return json.loads(self.text)


def call(
    app: DebuggedApplication,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    host: str = "localhost:5000",
    multiprocess: bool = False,
) -> Result:
    """One WSGI request through ``app``."""
    body = urllib.parse.urlencode(form).encode() if form is not None else b""
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": multiprocess,
        "wsgi.run_once": False,
    }
    if form is not None:
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    seen: dict[str, t.Any] = {}

    def start_response(status: str, hdrs: list[tuple[str, str]], exc_info: t.Any = None) -> None:
        seen["status"] = int(status.split()[0])
        seen["headers"] = {k.lower(): v for k, v in hdrs}

    chunks = app(environ, start_response)
    try:
        data = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return Result(seen["status"], seen["headers"], data.decode())


def page_info(html: str) -> tuple[str, str, str]:
    """``(traceback id, secret, first app frame id)`` from a traceback page."""
    tb_id = re.search(r'data-traceback="([^"]+)"', html)
    secret = re.search(r'data-secret="([^"]+)"', html)
    frame = re.search(r'class="frame app" id="frame-(\d+)"', html)
    assert tb_id and secret and frame, html[:500]
    return tb_id.group(1), secret.group(1), frame.group(1)


@pytest.fixture
def env_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pin_mod.USER_PIN_ENV, PIN)
    monkeypatch.delenv(pin_mod.SUPERVISOR_PIN_ENV, raising=False)
    monkeypatch.delenv(pin_mod.SUPERVISOR_KEY_ENV, raising=False)


@pytest.fixture
def debugged(env_pin: None) -> DebuggedApplication:
    return DebuggedApplication(create_app(), evalex=True, pin_logging=False)


def unlock(app: DebuggedApplication, secret: str) -> str:
    """Enter the right PIN; return the Cookie header that proves it."""
    r = call(app, "/__debugger__/pin", method="POST", form={"pin": PIN, "s": secret})
    assert r.status == 200, r.text
    assert r.json()["auth"] is True
    return r.headers["set-cookie"].split(";")[0]


# -- formats ---------------------------------------------------------------------


def test_curl_gets_plain_text(debugged: DebuggedApplication) -> None:
    r = call(debugged, "/plain", headers={"Accept": "*/*"})
    assert r.status == 500
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("Traceback (most recent call last):")
    assert "ValueError: plain failure local-marker-123 42" in r.text
    assert "failing_app.py" in r.text
    # The middleware's own frame is not part of the story.
    assert "_run_app" not in r.text


def test_json_for_api_clients(debugged: DebuggedApplication) -> None:
    for headers in (JSON, {"X-Requested-With": "XMLHttpRequest", "Accept": "*/*"}):
        r = call(debugged, "/plain", headers=headers)
        assert r.status == 500
        assert r.headers["content-type"].startswith("application/json")
        doc = r.json()
        assert doc["type"] == "ValueError"
        assert doc["message"] == "plain failure local-marker-123 42"
        assert doc["chained"] == [] and doc["notes"] == []
        assert re.fullmatch(r"/__debugger__/[0-9a-f]{16}", doc["traceback_url"])
        view = [f for f in doc["frames"] if f["is_app"]]
        assert [f["function"] for f in view][-1].endswith("plain")
        assert view[-1]["line"].startswith("raise ValueError")
        assert view[-1]["filename"].endswith("failing_app.py")
        assert any(not f["is_app"] for f in doc["frames"])
        assert "Traceback (most recent call last)" in doc["traceback"]


def test_html_for_browsers(debugged: DebuggedApplication) -> None:
    r = call(
        debugged,
        "/plain",
        headers={
            **HTML,
            "Cookie": "session=cookie-secret-value",
            "Authorization": "Bearer auth-secret-value",
            "X-Api-Key": "api-secret-value",
            "X-Trace": "visible-header",
        },
    )
    assert r.status == 500
    assert r.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    html = r.text
    assert "ValueError" in html and "plain failure local-marker-123 42" in html
    assert 'class="frame app"' in html and 'class="frame library"' in html
    # Source context and locals (repr) of the view's frame.
    assert "raise ValueError(f&quot;plain failure" in html
    assert "&#x27;local-marker-123&#x27;" in html
    assert 'id="copy-text"' in html and 'id="toggle-library"' in html
    assert 'id="traceback-text"' in html
    assert "GET http://localhost:5000/plain" in html
    assert "visible-header" in html
    for secret in ("cookie-secret-value", "auth-secret-value", "api-secret-value"):
        assert secret not in html
    # The PIN prompt and consoles, since evalex is on.
    assert 'id="pin-input"' in html and 'class="console-input"' in html


def test_html_without_evalex_has_no_console(env_pin: None) -> None:
    app = DebuggedApplication(create_app(), evalex=False, pin_logging=False)
    html = call(app, "/plain", headers=HTML).text
    assert "local-marker-123" in html
    assert "console-input" not in html and "pin-input" not in html


def test_accept_negotiation_prefers_explicit_types(debugged: DebuggedApplication) -> None:
    both = {"Accept": "application/json, text/html;q=0.5"}
    assert (
        call(debugged, "/plain", headers=both)
        .headers["content-type"]
        .startswith("application/json")
    )
    assert call(debugged, "/plain").headers["content-type"].startswith("text/plain")


def test_chained_exception(debugged: DebuggedApplication) -> None:
    doc = call(debugged, "/chained", headers=JSON).json()
    assert doc["type"] == "RuntimeError"
    assert [(c["relation"], c["type"]) for c in doc["chained"]] == [("cause", "KeyError")]
    assert doc["chained"][0]["message"] == "'missing-key'"
    assert doc["chained"][0]["frames"][-1]["line"] == 'table["missing-key"]'
    html = call(debugged, "/chained", headers=HTML).text
    assert "The above exception was the direct cause" in html
    assert html.index("missing-key") < html.index("lookup wrapper failed</span>")
    text = call(debugged, "/chained").text
    assert "KeyError: 'missing-key'" in text and "direct cause" in text


def test_suppressed_context_is_not_shown(debugged: DebuggedApplication) -> None:
    doc = call(debugged, "/context", headers=JSON).json()
    assert doc["type"] == "LookupError"
    assert doc["chained"] == []


def test_implicit_context_is_shown(env_pin: None) -> None:
    app = Erlen("ctx_app")
    app.debug = True

    @app.route("/")
    def index() -> str:
        try:
            raise OSError("first")
        except OSError:
            raise ValueError("second")  # noqa: B904

    dbg = DebuggedApplication(app, pin_logging=False)
    doc = call(dbg, "/", headers=JSON).json()
    assert [(c["relation"], c["message"]) for c in doc["chained"]] == [("context", "first")]
    assert "During handling of the above exception" in call(dbg, "/", headers=HTML).text


def test_exception_group_with_notes(debugged: DebuggedApplication) -> None:
    doc = call(debugged, "/group", headers=JSON).json()
    assert doc["type"] == "ExceptionGroup"
    assert doc["notes"] == ["note on the group"]
    members = doc["exceptions"]
    assert [(m["type"], m["message"]) for m in members] == [
        ("ValueError", "first member"),
        ("TypeError", "second member"),
    ]
    assert members[0]["notes"] == ["note on first member"]
    assert members[0]["frames"][-1]["line"] == "raise exc"
    html = call(debugged, "/group", headers=HTML).text
    assert "Sub-exception 1 of 2" in html and "note on first member" in html
    text = call(debugged, "/group").text
    assert "ExceptionGroup: several things failed" in text
    assert "note on the group" in text and "note on first member" in text


def test_async_view_frames(debugged: DebuggedApplication) -> None:
    doc = call(debugged, "/async", headers=JSON).json()
    assert doc["type"] == "KeyError"
    assert "async failure at /async" in doc["message"]
    app_frames = [f for f in doc["frames"] if f["is_app"]]
    # Only the view is app code: the event loop and erlen's pipeline are library.
    assert [f["function"].rsplit(".", 1)[-1] for f in app_frames] == ["async_view"]


def test_hidden_frames(env_pin: None) -> None:
    app = Erlen("hidden_app")
    app.debug = True

    def helper() -> None:
        __traceback_hide__ = True  # noqa: F841
        raise ValueError("from helper")

    @app.route("/")
    def index() -> str:
        helper()
        return ""

    functions = [
        f["function"]
        for f in call(DebuggedApplication(app, pin_logging=False), "/", headers=JSON).json()[
            "frames"
        ]
    ]
    assert not any(name.endswith("helper") for name in functions)
    shown = DebuggedApplication(app, pin_logging=False, show_hidden_frames=True)
    functions = [f["function"] for f in call(shown, "/", headers=JSON).json()["frames"]]
    assert any(name.endswith("helper") for name in functions)


def test_traceback_page_by_id(debugged: DebuggedApplication) -> None:
    url = call(debugged, "/plain", headers=JSON).json()["traceback_url"]
    r = call(debugged, url, headers=HTML)
    assert r.status == 200 and "local-marker-123" in r.text
    assert call(debugged, "/__debugger__/0123456789abcdef").status == 404
    assert call(debugged, "/__debugger__/nope/other").status == 404


def test_successful_requests_pass_through(debugged: DebuggedApplication) -> None:
    r = call(debugged, "/")
    assert (r.status, r.text) == (200, "ok")


def test_error_while_iterating_body(env_pin: None) -> None:
    def before_bytes(environ: dict[str, t.Any], start_response: t.Any) -> cabc.Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b""
        raise RuntimeError("body generator failed")

    r = call(DebuggedApplication(before_bytes, pin_logging=False), "/")
    assert r.status == 500 and "RuntimeError: body generator failed" in r.text

    def after_bytes(environ: dict[str, t.Any], start_response: t.Any) -> cabc.Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"partial"
        raise RuntimeError("too late")

    with pytest.raises(RuntimeError, match="too late"):
        call(DebuggedApplication(after_bytes, pin_logging=False), "/")


# -- trusted hosts ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "trusted"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("LOCALHOST.", True),
        ("app.localhost:8000", True),
        ("127.0.0.1", True),
        ("127.8.9.10:5000", True),
        ("[::1]:5000", True),
        ("[::ffff:127.0.0.1]", True),
        ("evil.example", False),
        ("localhost.evil.example", False),
        ("127.0.0.1.nip.io", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("", False),
        ("localhost:abc", False),
        ("local host", False),
    ],
)
def test_host_is_trusted(host: str, trusted: bool) -> None:
    assert host_is_trusted(host) is trusted


def test_extra_trusted_hosts() -> None:
    assert host_is_trusted("dev.test:8000", ["dev.test"])
    assert host_is_trusted("a.dev.test", [".dev.test"])
    assert host_is_trusted("a.dev.test", ["*.dev.test"])
    assert not host_is_trusted("evildev.test", [".dev.test"])
    assert not host_is_trusted("other.test", ["dev.test"])


def test_untrusted_host_gets_plain_500(debugged: DebuggedApplication) -> None:
    for headers in ({}, HTML, JSON):
        r = call(debugged, "/plain", headers=headers, host="rebind.attacker.example")
        assert r.status == 500
        assert r.headers["content-type"].startswith("text/plain")
        assert "TRUSTED_HOSTS" in r.text and "--debugger-trusted-host" in r.text
        for leak in ("local-marker", "ValueError", "failing_app", "/work", os.sep + "tests"):
            assert leak not in r.text
    assert not debugged.tracebacks
    # Nothing under /__debugger__/ answers either.
    r = call(debugged, "/__debugger__/static/debugger.js", host="rebind.attacker.example")
    assert r.status == 403 and "function" not in r.text


def test_trusted_hosts_option_and_app_config(env_pin: None) -> None:
    dbg = DebuggedApplication(create_app(), pin_logging=False, trusted_hosts=["dev.test"])
    assert "local-marker-123" in call(dbg, "/plain", host="dev.test:5000").text
    app = create_app()
    app.config["TRUSTED_HOSTS"] = ["myapp.internal"]
    dbg = DebuggedApplication(app, pin_logging=False)
    assert "local-marker-123" in call(dbg, "/plain", host="myapp.internal").text
    assert "local-marker-123" not in call(dbg, "/plain", host="other.internal").text


# -- console and PIN -------------------------------------------------------------


def test_console_needs_pin_then_evaluates(debugged: DebuggedApplication) -> None:
    tb_id, secret, frame = page_info(call(debugged, "/plain", headers=HTML).text)
    url = f"/__debugger__/{tb_id}/eval"
    form = {"frame": frame, "cmd": "1 + 1", "s": secret}
    before = call(debugged, url, method="POST", form=form)
    assert before.status == 401 and before.json()["error"] == "pin_required"
    cookie = unlock(debugged, secret)
    r = call(debugged, url, method="POST", form=form, headers={"Cookie": cookie})
    assert r.status == 200 and r.json()["output"] == "2\n"

    def run(cmd: str) -> str:
        result = call(
            debugged,
            url,
            method="POST",
            form={"frame": frame, "cmd": cmd, "s": secret},
            headers={"Cookie": cookie},
        )
        assert result.status == 200, result.text
        return str(result.json()["output"])

    assert run("marker") == "'local-marker-123'\n"
    assert run("x = number * 2\nprint('x is', x)") == "x is 82\n"
    assert run("x") == "82\n"  # the namespace persists per frame
    assert run("[number + i for i in range(2)]") == "[41, 42]\n"
    assert "ZeroDivisionError: division by zero" in run("1 / 0")
    assert "SyntaxError" in run("def (")
    assert run("import sys; print('err', file=sys.stderr)") == "err\n"
    # The failed request's context is active.
    assert run("from erlen import request; request.path") == "'/plain'\n"
    assert run("import asyncio\nawait asyncio.sleep(0, 'awaited')") == "'awaited'\n"
    assert "ignored" in run("raise SystemExit(3)")


def test_eval_refuses_missing_or_wrong_secret(debugged: DebuggedApplication) -> None:
    tb_id, secret, frame = page_info(call(debugged, "/plain", headers=HTML).text)
    cookie = unlock(debugged, secret)
    url = f"/__debugger__/{tb_id}/eval"
    for bad in ({}, {"s": ""}, {"s": "wrong"}, {"s": debugged.console_secret}):
        r = call(
            debugged,
            url,
            method="POST",
            form={"frame": frame, "cmd": "1 + 1", **bad},
            headers={"Cookie": cookie},
        )
        assert r.status == 403 and r.json()["error"] == "bad_secret"
    r = call(debugged, "/__debugger__/pin", method="POST", form={"pin": PIN, "s": "nope"})
    assert r.status == 403 and "set-cookie" not in r.headers
    assert call(debugged, url, headers={"Cookie": cookie}).status == 405


def test_forged_or_expired_cookie_refused(debugged: DebuggedApplication) -> None:
    tb_id, secret, frame = page_info(call(debugged, "/plain", headers=HTML).text)
    guard = debugged.pin_guard
    old = guard.make_cookie_value(now=1_000_000)
    for value in (old, "123|abc", "garbage", guard.make_cookie_value() + "0"):
        r = call(
            debugged,
            f"/__debugger__/{tb_id}/eval",
            method="POST",
            form={"frame": frame, "cmd": "1 + 1", "s": secret},
            headers={"Cookie": f"{guard.cookie_name}={value}"},
        )
        assert r.status == 401


def test_pin_cookie_attributes(debugged: DebuggedApplication) -> None:
    _, secret, _ = page_info(call(debugged, "/plain", headers=HTML).text)
    r = call(debugged, "/__debugger__/pin", method="POST", form={"pin": "111222333", "s": secret})
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert f"Max-Age={8 * 3600}" in cookie


def test_wrong_pins_lock_the_console(debugged: DebuggedApplication) -> None:
    tb_id, secret, frame = page_info(call(debugged, "/plain", headers=HTML).text)
    cookie = unlock(debugged, secret)
    for attempt in range(10):
        r = call(debugged, "/__debugger__/pin", method="POST", form={"pin": "1", "s": secret})
        assert r.status == 403 and r.json()["auth"] is False
        assert r.json()["exhausted"] is (attempt == 9)
    r = call(debugged, "/__debugger__/pin", method="POST", form={"pin": PIN, "s": secret})
    assert r.status == 403 and r.json()["error"] == "locked"
    assert "Restart the server" in r.json()["message"]
    # Even an earlier unlock no longer runs code, and the page says why.
    r = call(
        debugged,
        f"/__debugger__/{tb_id}/eval",
        method="POST",
        form={"frame": frame, "cmd": "1 + 1", "s": secret},
        headers={"Cookie": cookie},
    )
    assert r.status == 403 and r.json()["error"] == "locked"
    html = call(debugged, "/plain", headers=HTML).text
    assert "too many times" in html and "console-input" not in html


def test_cross_origin_posts_refused(debugged: DebuggedApplication) -> None:
    tb_id, secret, frame = page_info(call(debugged, "/plain", headers=HTML).text)
    cookie = unlock(debugged, secret)
    form = {"frame": frame, "cmd": "1 + 1", "s": secret}
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://localhost:5001"},
        {"Origin": "https://localhost:5000"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        for path, data in ((f"/__debugger__/{tb_id}/eval", form), ("/__debugger__/pin", {})):
            r = call(
                debugged, path, method="POST", form=data, headers={"Cookie": cookie, **headers}
            )
            assert r.status == 403 and r.json()["error"] == "cross_origin"
    same = {"Cookie": cookie, "Origin": "http://localhost:5000", "Sec-Fetch-Site": "same-origin"}
    r = call(debugged, f"/__debugger__/{tb_id}/eval", method="POST", form=form, headers=same)
    assert r.json()["output"] == "2\n"


def test_multiprocess_turns_console_off(debugged: DebuggedApplication) -> None:
    html = call(debugged, "/plain", headers=HTML, multiprocess=True).text
    assert "local-marker-123" in html
    assert "server runs several processes" in html
    assert "console-input" not in html and "pin-input" not in html
    tb_id, secret, frame = page_info(call(debugged, "/plain", headers=HTML).text)
    r = call(
        debugged,
        f"/__debugger__/{tb_id}/eval",
        method="POST",
        form={"frame": frame, "cmd": "1 + 1", "s": secret},
        multiprocess=True,
    )
    assert r.status == 403 and r.json()["error"] == "multiprocess"


def test_eval_when_evalex_off(env_pin: None) -> None:
    dbg = DebuggedApplication(create_app(), pin_logging=False)
    tb_id = call(dbg, "/plain", headers=JSON).json()["traceback_url"].rsplit("/", 1)[1]
    r = call(dbg, f"/__debugger__/{tb_id}/eval", method="POST", form={"cmd": "1", "s": "x"})
    assert r.status == 404 and r.json()["error"] == "console_off"


def test_pin_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pin_mod.USER_PIN_ENV, "off")
    dbg = DebuggedApplication(create_app(), evalex=True, pin_logging=False)
    assert dbg.pin is None
    html = call(dbg, "/plain", headers=HTML).text
    tb_id, secret, frame = page_info(html)
    assert "pin-input" not in html
    r = call(
        dbg,
        f"/__debugger__/{tb_id}/eval",
        method="POST",
        form={"frame": frame, "cmd": "1 + 1", "s": secret},
    )
    assert r.json()["output"] == "2\n"


def test_standalone_console(env_pin: None) -> None:
    dbg = DebuggedApplication(
        create_app(), evalex=True, pin_logging=False, console_init_func=lambda: {"answer": 42}
    )
    page = call(dbg, "/console", headers=HTML)
    assert page.status == 200 and 'class="console-input"' in page.text
    secret = re.search(r'data-secret="([^"]+)"', page.text)
    assert secret and secret.group(1) == dbg.console_secret
    cookie = unlock(dbg, dbg.console_secret)
    r = call(
        dbg,
        "/__debugger__/console/eval",
        method="POST",
        form={"cmd": "answer + 1", "s": dbg.console_secret},
        headers={"Cookie": cookie},
    )
    assert r.json()["output"] == "43\n"
    several = call(dbg, "/console", headers=HTML, multiprocess=True).text
    assert "several processes" in several and "console-input" not in several
    # Other hosts, or evalex off: the path belongs to the app (404 here).
    assert call(dbg, "/console", host="evil.example").status == 404
    off = DebuggedApplication(create_app(), pin_logging=False)
    assert call(off, "/console").status == 404


def test_static_resources(debugged: DebuggedApplication) -> None:
    js = call(debugged, "/__debugger__/static/debugger.js")
    assert js.status == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "console-input" in js.text
    css = call(debugged, "/__debugger__/static/debugger.css")
    assert css.status == 200 and ".frame" in css.text
    for name in ("../__init__.py", "pin.py", "", "debugger.js/"):
        assert call(debugged, "/__debugger__/static/" + name).status == 404


# -- units -------------------------------------------------------------------------


def test_generated_pin_format() -> None:
    pins = {pin_mod.generate_pin() for _ in range(20)}
    assert all(re.fullmatch(r"\d{3}-\d{3}-\d{3}", p) for p in pins)
    assert len(pins) > 1


def test_resolve_pin_order() -> None:
    assert pin_mod.resolve_pin({"ERLEN_DEBUG_PIN": "42", "ERLEN_DEBUGGER_PIN": "7"}) == "42"
    assert pin_mod.resolve_pin({"ERLEN_DEBUG_PIN": "OFF"}) is None
    assert pin_mod.resolve_pin({"ERLEN_DEBUGGER_PIN": "555-555-555"}) == "555-555-555"
    generated = pin_mod.resolve_pin({})
    assert generated is not None and re.fullmatch(r"\d{3}-\d{3}-\d{3}", generated)


def test_supervisor_pin_shared_with_children() -> None:
    env: dict[str, str] = {}
    pin_mod.ensure_supervisor_pin(env)
    first = dict(env)
    pin_mod.ensure_supervisor_pin(env)
    assert env == first and pin_mod.SUPERVISOR_PIN_ENV in env
    a = pin_mod.PinGuard(pin_mod.resolve_pin(env), environ=env)
    b = pin_mod.PinGuard(pin_mod.resolve_pin(env), environ=env)
    assert a.pin == b.pin and a.cookie_name == b.cookie_name
    assert b.check_cookie_value(a.make_cookie_value())
    # Without a shared key, another process's cookie doesn't verify.
    c = pin_mod.PinGuard(a.pin, environ={})
    assert not c.check_cookie_value(a.make_cookie_value())


def test_pin_logging_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pin_mod, "_printed", False)
    out = io.StringIO()
    pin_mod.log_pin("123-456-789", True, out)
    pin_mod.log_pin("123-456-789", True, out)
    assert out.getvalue() == " * Debugger is active!\n * Debugger PIN: 123-456-789\n"
    monkeypatch.setattr(pin_mod, "_printed", False)
    loud = io.StringIO()
    pin_mod.log_pin(None, True, loud)
    assert "WARNING" in loud.getvalue() and "PIN is OFF" in loud.getvalue()


def test_library_classification() -> None:
    assert is_library_file(os.__file__)
    assert is_library_file(pytest.__file__)
    assert is_library_file(sys.modules["erlen"].__file__ or "")
    assert is_library_file("<frozen runpy>")
    assert not is_library_file(APP_SCRIPT)


def test_safe_repr_truncates_and_survives() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("nope")

    assert safe_repr(Broken()).startswith("<Broken")
    assert len(safe_repr("x" * 100_000)) < 1100
    assert len(safe_repr(list(range(10_000)))) < 1100


def test_console_output_is_per_thread(capsys: pytest.CaptureFixture[str]) -> None:
    console = Console({}, {"value": 3})
    assert console.eval("print(value)") == "3\n"
    print("outside")
    assert capsys.readouterr().out == "outside\n"


# -- a real development server -----------------------------------------------------


def _server_env(base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    env[pin_mod.USER_PIN_ENV] = PIN
    env.pop(pin_mod.SUPERVISOR_PIN_ENV, None)
    env.pop(pin_mod.SUPERVISOR_KEY_ENV, None)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.dirname(__file__))) + (
        os.pathsep + env["PYTHONPATH"]
    )
    return env


def _post(
    server: ServerProcess, path: str, form: dict[str, str], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], t.Any]:
    status, hdrs, body = server.request(
        "POST",
        path,
        urllib.parse.urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
    )
    return status, hdrs, json.loads(body)


@pytest.mark.dev_server
def test_real_server_formats_and_console(subprocess_env: dict[str, str]) -> None:
    port = free_port()
    with ServerProcess(
        [sys.executable, APP_SCRIPT, str(port)], port, env=_server_env(subprocess_env)
    ) as server:
        assert f"Debugger PIN: {PIN}" in server.log()
        status, headers, body = server.request("GET", "/plain", headers={"Accept": "*/*"})
        assert status == 500 and headers["content-type"].startswith("text/plain")
        assert b"ValueError: plain failure local-marker-123 42" in body

        status, headers, body = server.request("GET", "/chained", headers=JSON)
        doc = json.loads(body)
        assert status == 500 and doc["chained"][0]["type"] == "KeyError"

        status, _, body = server.request("GET", "/group", headers=JSON)
        doc = json.loads(body)
        assert [m["message"] for m in doc["exceptions"]] == ["first member", "second member"]
        assert doc["notes"] == ["note on the group"]

        status, _, body = server.request("GET", "/async", headers=JSON)
        assert status == 500 and "async failure at /async" in json.loads(body)["message"]

        status, headers, body = server.request("GET", "/plain", headers=HTML)
        html = body.decode()
        assert status == 500 and headers["content-type"].startswith("text/html")
        assert "&#x27;local-marker-123&#x27;" in html
        tb_id, secret, frame = page_info(html)
        status, _, js = server.request("GET", "/__debugger__/static/debugger.js")
        assert status == 200 and b"console-input" in js

        url = f"/__debugger__/{tb_id}/eval"
        form = {"frame": frame, "cmd": "1 + 1", "s": secret}
        status, _, data = _post(server, url, form)
        assert status == 401 and "output" not in data
        status, _, data = _post(server, url, {**form, "s": "wrong"})
        assert status == 403 and data["error"] == "bad_secret"
        status, _, data = _post(server, "/__debugger__/pin", {"pin": "000", "s": secret})
        assert status == 403 and data["auth"] is False
        status, hdrs, data = _post(server, "/__debugger__/pin", {"pin": PIN, "s": secret})
        assert status == 200 and data["auth"] is True
        cookie = hdrs["set-cookie"].split(";")[0]
        status, _, data = _post(
            server, url, form, {"Cookie": cookie, "Origin": "http://evil.example"}
        )
        assert status == 403 and data["error"] == "cross_origin"
        status, _, data = _post(server, url, {**form, "s": ""}, {"Cookie": cookie})
        assert status == 403
        status, _, data = _post(server, url, form, {"Cookie": cookie})
        assert status == 200 and data["output"] == "2\n"
        status, _, data = _post(
            server,
            url,
            {**form, "cmd": "from erlen import request; request.path"},
            {"Cookie": cookie},
        )
        assert data["output"] == "'/plain'\n"

        status, headers, body = server.request(
            "GET", "/plain", headers={"Host": "attacker.example", **HTML}
        )
        assert status == 500 and headers["content-type"].startswith("text/plain")
        assert b"TRUSTED_HOSTS" in body
        for leak in (b"local-marker", b"ValueError", b"failing_app", b"Traceback"):
            assert leak not in body


@pytest.mark.dev_server
def test_real_server_lockout(subprocess_env: dict[str, str]) -> None:
    port = free_port()
    with ServerProcess(
        [sys.executable, APP_SCRIPT, str(port)], port, env=_server_env(subprocess_env)
    ) as server:
        _, _, body = server.request("GET", "/plain", headers=HTML)
        tb_id, secret, frame = page_info(body.decode())
        for _ in range(10):
            status, _, data = _post(server, "/__debugger__/pin", {"pin": "999", "s": secret})
            assert status == 403 and data["auth"] is False
        status, hdrs, data = _post(server, "/__debugger__/pin", {"pin": PIN, "s": secret})
        assert status == 403 and data["error"] == "locked" and "set-cookie" not in hdrs


@pytest.mark.dev_server
def test_real_server_multiprocess_console_off(subprocess_env: dict[str, str]) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("pre-fork workers need fork")
    port = free_port()
    args = [sys.executable, APP_SCRIPT, str(port), "--processes", "2"]
    with ServerProcess(args, port, env=_server_env(subprocess_env)) as server:
        status, _, body = server.request("GET", "/plain", headers=HTML)
        html = body.decode()
        assert status == 500 and "local-marker-123" in html
        assert "server runs several processes" in html and "console-input" not in html


def test_endpoint_methods_and_body_limit(debugged: DebuggedApplication) -> None:
    r = call(debugged, "/__debugger__/pin")
    assert r.status == 405 and r.headers["allow"] == "POST"
    _, secret, _ = page_info(call(debugged, "/plain", headers=HTML).text)
    big = {"pin": "1" * (2 * 1024 * 1024), "s": secret}
    r = call(debugged, "/__debugger__/pin", method="POST", form=big)
    assert r.status == 413 and r.json()["error"] == "too_large"
    # The oversized attempt did not count as a wrong PIN.
    assert debugged.pin_guard.remaining == pin_mod.MAX_ATTEMPTS
