"""The interactive debugger: a WSGI middleware that renders unhandled errors.

Safe by default: it answers only requests whose Host is a loopback name or
address (or explicitly trusted), the console needs the page's secret and the
PIN cookie, state-changing requests must be same-origin, and the console turns
itself off when the server runs several processes. The runner wraps the app
only in debug mode: without this middleware none of it exists.
"""

from __future__ import annotations

import collections
import collections.abc as cabc
import ipaddress
import json
import os
import re
import secrets
import sys
import threading
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from ...http.request import _host_is_trusted
from .console import Console
from .pin import PinGuard
from .pin import log_pin
from .pin import resolve_pin
from .tbtools import DebugTraceback
from .tbtools import render_html

__all__ = ["DebuggedApplication", "host_is_trusted"]

WSGIApp = cabc.Callable[[dict[str, t.Any], t.Callable[..., t.Any]], cabc.Iterable[bytes]]
StartResponse = t.Callable[..., t.Any]

#: The environ key the app calls with its request context when the request ends.
PRESERVE_CONTEXT_KEY = "erlen.preserve_context"
PREFIX = "/__debugger__"
#: Tracebacks kept per process (each keeps its frames and locals alive).
MAX_TRACEBACKS = 32
#: Largest eval/pin request body read.
MAX_BODY = 1024 * 1024
_STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
_STATIC_FILES = {
    "debugger.css": "text/css; charset=utf-8",
    "debugger.js": "text/javascript; charset=utf-8",
}
_HOST_RE = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]")
_DEFAULT_PORTS = {"http": 80, "https": 443}

UNTRUSTED_HOST_MESSAGE = (
    "The debugger is not shown because the request's host {host!r} is not trusted."
    " To see tracebacks here, add the host to TRUSTED_HOSTS or pass"
    " --debugger-trusted-host (DebuggedApplication(trusted_hosts=[...]))."
)
MULTIPROCESS_MESSAGE = (
    "The console is off because the server runs several processes"
    " (wsgi.multiprocess): a console lives in one process and the next request may"
    " reach another. Run the server with one process to use the console."
)
LOCKED_MESSAGE = (
    "The console is locked: the debugger PIN was entered wrong too many times."
    " Restart the server to try again."
)

_SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
]
_HTML_HEADERS = [
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
        " img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Frame-Options", "DENY"),
]


def _split_host(host: str) -> str | None:
    """The host name of a Host header, lowercased, port removed; None when malformed."""
    host = host.strip()
    if host.startswith("["):
        end = host.find("]")
        if end == -1:
            return None
        name, rest = host[: end + 1], host[end + 1 :]
    else:
        name, _, port = host.partition(":")
        rest = f":{port}" if port else ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    if not _HOST_RE.fullmatch(name):
        return None
    return name.lower().rstrip(".")


def host_is_trusted(host: str | None, extra: cabc.Iterable[str] = ()) -> bool:
    """Whether the debugger may answer a request sent to ``host`` (a Host header).

    Trusted: ``localhost``, ``*.localhost``, ``127.0.0.0/8``, ``::1``, and each
    entry of ``extra`` (an exact name or address; ``.example.com`` or
    ``*.example.com`` for a domain and its subdomains).
    """
    if not host:
        return False
    name = _split_host(host)
    if not name:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_loopback:
            return True
    # The same rule as the app's TRUSTED_HOSTS ("*.example.com" is also accepted).
    refs = [ref[1:] if ref.startswith("*.") else ref for ref in map(str.strip, extra) if ref]
    return _host_is_trusted(name, refs)


def _origin_tuple(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def _is_cross_origin(environ: cabc.Mapping[str, t.Any]) -> bool:
    # SECURITY: browsers send Origin on cross-origin POSTs (and Sec-Fetch-Site);
    # a state-changing debugger request must come from the debugger's own page.
    if str(environ.get("HTTP_SEC_FETCH_SITE", "")).lower() == "cross-site":
        return True
    origin = environ.get("HTTP_ORIGIN")
    if origin is None:
        return False
    scheme = environ.get("wsgi.url_scheme", "http")
    expected = _origin_tuple(f"{scheme}://{environ.get('HTTP_HOST', '')}")
    actual = _origin_tuple(str(origin))
    return expected is None or actual is None or expected != actual


def _cookie(environ: cabc.Mapping[str, t.Any], name: str) -> str | None:
    for part in str(environ.get("HTTP_COOKIE", "")).split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip('"')
    return None


def _read_form(environ: dict[str, t.Any]) -> dict[str, str] | None:
    """The urlencoded body, or None when it is too large."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # SECURITY: a bounded read; the console has no use for megabytes of input.
    if length > MAX_BODY:
        return None
    data = environ["wsgi.input"].read(length) if length > 0 else b""
    fields = parse_qs(data.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


def _wants(environ: cabc.Mapping[str, t.Any]) -> str:
    """``html``, ``json`` or ``text``: the traceback format the client asked for."""
    if str(environ.get("HTTP_X_REQUESTED_WITH", "")).lower() == "xmlhttprequest":
        return "json"
    html_q = json_q = 0.0
    for item in str(environ.get("HTTP_ACCEPT", "")).split(","):
        media, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        # Only explicit types count: curl's */* gets plain text.
        if media in ("text/html", "application/xhtml+xml"):
            html_q = max(html_q, q)
        elif media == "application/json" or (
            media.startswith("application/") and media.endswith("+json")
        ):
            json_q = max(json_q, q)
    if html_q > 0 and html_q >= json_q:
        return "html"
    if json_q > 0:
        return "json"
    return "text"


class DebuggedApplication:
    """Wrap ``app``: unhandled errors become traceback pages, JSON or text (500).

    :param evalex: enable the per-frame Python console (behind the PIN).
    :param console_path: where the standalone console is served when ``evalex`` is on.
    :param console_init_func: returns the standalone console's namespace.
    :param show_hidden_frames: show frames that set ``__traceback_hide__``.
    :param pin_security: require the PIN for the console (``False`` disables it).
    :param pin_logging: print that the debugger is active, and the PIN.
    :param trusted_hosts: hosts besides loopback that may see the debugger.
    :param pin_cookie_max_age: seconds a right PIN stays remembered.
    """

    def __init__(
        self,
        app: WSGIApp,
        evalex: bool = False,
        console_path: str = "/console",
        console_init_func: cabc.Callable[[], dict[str, t.Any]] | None = None,
        show_hidden_frames: bool = False,
        pin_security: bool = True,
        pin_logging: bool = True,
        trusted_hosts: cabc.Iterable[str] | None = None,
        pin_cookie_max_age: int = 8 * 3600,
    ) -> None:
        self.app = app
        self.evalex = evalex
        self.console_path = console_path
        self.console_init_func = console_init_func
        self.show_hidden_frames = show_hidden_frames
        self.trusted_hosts: list[str] = list(trusted_hosts or ())
        pin = resolve_pin() if pin_security else None
        self.pin_guard = PinGuard(pin, max_age=pin_cookie_max_age)
        self.tracebacks: collections.OrderedDict[str, DebugTraceback] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._console: Console | None = None
        #: The standalone console page's secret.
        self.console_secret = secrets.token_urlsafe(24)
        if pin_logging:
            log_pin(pin, evalex)

    @property
    def pin(self) -> str | None:
        """The PIN, or None when it is off."""
        return self.pin_guard.pin

    # -- trust ------------------------------------------------------------------

    def _all_trusted_hosts(self) -> list[str]:
        hosts = list(self.trusted_hosts)
        target: t.Any = self.app
        config = getattr(target, "config", None)
        if config is None:
            config = getattr(getattr(target, "__self__", None), "config", None)
        if config is not None:
            try:
                extra = config.get("TRUSTED_HOSTS")
            except Exception:
                extra = None
            if extra:
                hosts.extend(str(h) for h in extra)
        return hosts

    def is_trusted(self, environ: cabc.Mapping[str, t.Any]) -> bool:
        """Whether this request's Host may see debugger output."""
        host = environ.get("HTTP_HOST")
        if host is None:
            host = environ.get("SERVER_NAME")
        # SECURITY: DNS rebinding: an attacker's name resolving to 127.0.0.1 still
        # sends its own name as Host; only loopback names and explicit hosts pass.
        return host_is_trusted(str(host) if host else None, self._all_trusted_hosts())

    def _console_notice(self, environ: cabc.Mapping[str, t.Any]) -> str | None:
        if not self.evalex:
            return None
        # SECURITY: a console's state lives in one process; off when there are several.
        if environ.get("wsgi.multiprocess"):
            return MULTIPROCESS_MESSAGE
        if self.pin_guard.locked:
            return LOCKED_MESSAGE
        return None

    def _console_on(self, environ: cabc.Mapping[str, t.Any]) -> bool:
        return (
            self.evalex
            and not environ.get("wsgi.multiprocess")
            and not (self.pin_guard.enabled and self.pin_guard.locked)
        )

    def _unlocked(self, environ: cabc.Mapping[str, t.Any]) -> bool:
        if not self.pin_guard.enabled:
            return True
        return self.pin_guard.check_cookie_value(_cookie(environ, self.pin_guard.cookie_name))

    # -- WSGI -------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, t.Any], start_response: StartResponse
    ) -> cabc.Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == PREFIX or path.startswith(PREFIX + "/"):
            return self._debugger_request(environ, start_response, path[len(PREFIX) + 1 :])
        if (
            self.evalex
            and path == self.console_path
            and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and self.is_trusted(environ)
        ):
            return self._console_page(environ, start_response)
        return self._run_app(environ, start_response)

    def _run_app(
        self, environ: dict[str, t.Any], start_response: StartResponse
    ) -> cabc.Iterator[bytes]:
        captured: list[t.Any] = []
        previous = environ.get(PRESERVE_CONTEXT_KEY)

        def preserve(ctx: t.Any) -> None:
            # The app calls this with its request context as the request ends, even
            # when the error propagates: keep it for the console.
            captured[:] = [ctx]
            if previous is not None:
                previous(ctx)

        environ[PRESERVE_CONTEXT_KEY] = preserve
        app_iter: cabc.Iterable[bytes] | None = None
        sent = False
        try:
            app_iter = self.app(environ, start_response)
            for chunk in app_iter:
                if chunk:
                    sent = True
                yield chunk
        except Exception as e:
            if sent:
                # Part of the body is on the wire: the server logs and closes.
                raise
            tb = e.__traceback__
            if tb is not None and tb.tb_frame.f_code is self._run_app.__code__:
                # Start the traceback at the app, not at this middleware.
                e.with_traceback(tb.tb_next)
            yield from self._error_response(e, environ, start_response, captured)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()

    def _error_response(
        self,
        exc: Exception,
        environ: dict[str, t.Any],
        start_response: StartResponse,
        captured: list[t.Any],
    ) -> list[bytes]:
        exc_info = sys.exc_info()
        tb = DebugTraceback(
            exc,
            environ,
            show_hidden_frames=self.show_hidden_frames,
            context=captured[0] if captured else None,
        )
        errors = environ.get("wsgi.errors")
        try:
            (errors or sys.stderr).write(tb.text)
        except Exception:
            pass
        if not self.is_trusted(environ):
            # SECURITY: no source, locals, paths or exception text for other hosts.
            host = str(environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "")[:100]
            text = "Internal Server Error\n\n" + UNTRUSTED_HOST_MESSAGE.format(host=host) + "\n"
            return self._send(
                start_response, "500 INTERNAL SERVER ERROR", text, "text/plain", exc_info
            )
        self._store(tb)
        prefix = environ.get("SCRIPT_NAME", "").rstrip("/")
        fmt = _wants(environ)
        if fmt == "json":
            body = json.dumps(tb.to_json(prefix), indent=2)
            return self._send(
                start_response, "500 INTERNAL SERVER ERROR", body, "application/json", exc_info
            )
        if fmt == "text":
            return self._send(
                start_response, "500 INTERNAL SERVER ERROR", tb.text, "text/plain", exc_info
            )
        page = self._render_page(tb, environ)
        return self._send(start_response, "500 INTERNAL SERVER ERROR", page, "text/html", exc_info)

    def _render_page(self, tb: DebugTraceback, environ: cabc.Mapping[str, t.Any]) -> str:
        console = self._console_on(environ)
        return render_html(
            tb,
            prefix=environ.get("SCRIPT_NAME", "").rstrip("/"),
            console=console,
            pin_required=console and not self._unlocked(environ),
            notice=self._console_notice(environ),
        )

    def _store(self, tb: DebugTraceback) -> None:
        with self._lock:
            self.tracebacks[tb.id] = tb
            while len(self.tracebacks) > MAX_TRACEBACKS:
                self.tracebacks.popitem(last=False)

    def _send(
        self,
        start_response: StartResponse,
        status: str,
        body: str,
        mimetype: str,
        exc_info: t.Any = None,
        extra: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        data = body.encode("utf-8")
        headers = [
            ("Content-Type", f"{mimetype}; charset=utf-8"),
            ("Content-Length", str(len(data))),
            *_SECURITY_HEADERS,
        ]
        if mimetype == "text/html":
            headers.extend(_HTML_HEADERS)
        headers.extend(extra or ())
        if exc_info is not None:
            start_response(status, headers, exc_info)
        else:
            start_response(status, headers)
        return [data]

    def _json(
        self,
        start_response: StartResponse,
        status: str,
        data: dict[str, t.Any],
        extra: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        return self._send(start_response, status, json.dumps(data), "application/json", None, extra)

    # -- debugger endpoints -----------------------------------------------------

    def _debugger_request(
        self, environ: dict[str, t.Any], start_response: StartResponse, rest: str
    ) -> cabc.Iterable[bytes]:
        if not self.is_trusted(environ):
            # SECURITY: nothing of the debugger answers an untrusted Host.
            host = str(environ.get("HTTP_HOST") or "")[:100]
            return self._send(
                start_response,
                "403 FORBIDDEN",
                UNTRUSTED_HOST_MESSAGE.format(host=host) + "\n",
                "text/plain",
            )
        method = environ.get("REQUEST_METHOD", "GET")
        if rest.startswith("static/"):
            return self._static(start_response, rest[len("static/") :])
        if rest == "pin":
            if method != "POST":
                return self._method_not_allowed(start_response)
            return self._pin(environ, start_response)
        tb_id, _, action = rest.partition("/")
        if action == "eval":
            if method != "POST":
                return self._method_not_allowed(start_response)
            return self._eval(environ, start_response, tb_id)
        if action == "" and tb_id and method in ("GET", "HEAD"):
            tb = self.tracebacks.get(tb_id)
            if tb is not None:
                page = self._render_page(tb, environ)
                return self._send(start_response, "200 OK", page, "text/html")
            return self._send(
                start_response,
                "404 NOT FOUND",
                f"No traceback {tb_id!r} in this server process: it restarted, kept only"
                f" the last {MAX_TRACEBACKS}, or runs several processes. Reload the"
                " failing page to get a new one.\n",
                "text/plain",
            )
        return self._send(
            start_response,
            "404 NOT FOUND",
            "Unknown debugger URL. Tracebacks live at /__debugger__/<id>.\n",
            "text/plain",
        )

    def _method_not_allowed(self, start_response: StartResponse) -> list[bytes]:
        return self._send(
            start_response,
            "405 METHOD NOT ALLOWED",
            "Use POST for this debugger endpoint.\n",
            "text/plain",
            extra=[("Allow", "POST")],
        )

    def _static(self, start_response: StartResponse, name: str) -> list[bytes]:
        # SECURITY: a fixed allowlist of names; the request never names a path.
        mimetype = _STATIC_FILES.get(name)
        if mimetype is None:
            return self._send(
                start_response, "404 NOT FOUND", "No such debugger resource.\n", "text/plain"
            )
        with open(os.path.join(_STATIC_DIR, name), "rb") as f:
            data = f.read()
        start_response(
            "200 OK",
            [("Content-Type", mimetype), ("Content-Length", str(len(data))), *_SECURITY_HEADERS],
        )
        return [data]

    def _guard_post(
        self, environ: dict[str, t.Any], start_response: StartResponse
    ) -> tuple[dict[str, str] | None, list[bytes] | None]:
        """Checks shared by eval and pin: origin, console on, body size."""
        # SECURITY: cross-origin pages may not drive the console (CSRF).
        if _is_cross_origin(environ):
            return None, self._json(
                start_response,
                "403 FORBIDDEN",
                {
                    "error": "cross_origin",
                    "message": "Cross-origin request refused: use the debugger page"
                    " served by this server.",
                },
            )
        if not self.evalex:
            return None, self._json(
                start_response,
                "404 NOT FOUND",
                {
                    "error": "console_off",
                    "message": "The console is off. Turn it on with evalex=True"
                    " (use_evalex / the run command's debugger option).",
                },
            )
        if environ.get("wsgi.multiprocess"):
            return None, self._json(
                start_response,
                "403 FORBIDDEN",
                {"error": "multiprocess", "message": MULTIPROCESS_MESSAGE},
            )
        form = _read_form(environ)
        if form is None:
            return None, self._json(
                start_response,
                "413 CONTENT TOO LARGE",
                {"error": "too_large", "message": f"Send at most {MAX_BODY} bytes."},
            )
        return form, None

    def _secret_ok(self, secret: str, expected: str) -> bool:
        # SECURITY: constant-time; an empty secret never matches.
        return bool(secret) and secrets.compare_digest(secret.encode(), expected.encode())

    def _any_secret_ok(self, secret: str) -> bool:
        with self._lock:
            candidates = [tb.secret for tb in self.tracebacks.values()]
        candidates.append(self.console_secret)
        return any(self._secret_ok(secret, c) for c in candidates)

    def _pin(self, environ: dict[str, t.Any], start_response: StartResponse) -> list[bytes]:
        form, refused = self._guard_post(environ, start_response)
        if refused is not None:
            return refused
        assert form is not None
        if not self._any_secret_ok(form.get("s", "")):
            return self._bad_secret(start_response)
        guard = self.pin_guard
        if not guard.enabled:
            return self._json(start_response, "200 OK", {"auth": True, "message": "No PIN."})
        if guard.locked:
            return self._json(
                start_response,
                "403 FORBIDDEN",
                {"auth": False, "exhausted": True, "error": "locked", "message": LOCKED_MESSAGE},
            )
        if guard.attempt(form.get("pin", "")):
            return self._json(
                start_response,
                "200 OK",
                {"auth": True, "exhausted": False, "message": "Console unlocked."},
                extra=[("Set-Cookie", guard.cookie_header())],
            )
        if guard.locked:
            return self._json(
                start_response,
                "403 FORBIDDEN",
                {"auth": False, "exhausted": True, "error": "locked", "message": LOCKED_MESSAGE},
            )
        return self._json(
            start_response,
            "403 FORBIDDEN",
            {
                "auth": False,
                "exhausted": False,
                "error": "wrong_pin",
                "message": f"Wrong PIN. {guard.remaining} tries left before the console"
                " locks until the server restarts. The PIN is printed in the server's"
                " terminal.",
            },
        )

    def _bad_secret(self, start_response: StartResponse) -> list[bytes]:
        return self._json(
            start_response,
            "403 FORBIDDEN",
            {
                "error": "bad_secret",
                "message": "Missing or wrong page secret: reload the traceback page and use"
                " its console.",
            },
        )

    def _eval(
        self, environ: dict[str, t.Any], start_response: StartResponse, tb_id: str
    ) -> list[bytes]:
        form, refused = self._guard_post(environ, start_response)
        if refused is not None:
            return refused
        assert form is not None
        secret = form.get("s", "")
        tb: DebugTraceback | None = None
        if tb_id == "console":
            if not self._secret_ok(secret, self.console_secret):
                return self._bad_secret(start_response)
        else:
            tb = self.tracebacks.get(tb_id)
            if tb is None:
                return self._json(
                    start_response,
                    "404 NOT FOUND",
                    {
                        "error": "unknown_traceback",
                        "message": "This traceback is gone (the server restarted or"
                        " forgot it). Reload the failing page.",
                    },
                )
            # SECURITY: the secret of this very page; it never leaves the HTML.
            if not self._secret_ok(secret, tb.secret):
                return self._bad_secret(start_response)
        if self.pin_guard.enabled and self.pin_guard.locked:
            return self._json(
                start_response, "403 FORBIDDEN", {"error": "locked", "message": LOCKED_MESSAGE}
            )
        # SECURITY: no code runs without the signed PIN cookie.
        if not self._unlocked(environ):
            return self._json(
                start_response,
                "401 UNAUTHORIZED",
                {
                    "error": "pin_required",
                    "message": "Enter the debugger PIN (printed in the server's terminal)"
                    " to unlock the console.",
                },
            )
        console = self._get_console(tb, form.get("frame", ""))
        if console is None:
            return self._json(
                start_response,
                "404 NOT FOUND",
                {"error": "unknown_frame", "message": "No such frame in this traceback."},
            )
        output = console.eval(form.get("cmd", ""))
        return self._json(start_response, "200 OK", {"output": output})

    def _get_console(self, tb: DebugTraceback | None, frame: str) -> Console | None:
        with self._lock:
            if tb is None:
                if self._console is None:
                    namespace = self.console_init_func() if self.console_init_func else {}
                    self._console = Console(namespace)
                return self._console
            try:
                frame_id = int(frame)
            except ValueError:
                return None
            f = tb.frames.get(frame_id)
            if f is None:
                return None
            console = tb.consoles.get(frame_id)
            if console is None:
                console = tb.consoles[frame_id] = Console(
                    f.frame.f_globals, f.frame.f_locals, tb.context
                )
            return t.cast(Console, console)

    def _console_page(
        self, environ: dict[str, t.Any], start_response: StartResponse
    ) -> list[bytes]:
        console = self._console_on(environ)
        page = render_html(
            None,
            prefix=environ.get("SCRIPT_NAME", "").rstrip("/"),
            console=console,
            pin_required=console and not self._unlocked(environ),
            notice=self._console_notice(environ),
            title="Interactive console",
            console_secret=self.console_secret if console else "",
        )
        return self._send(start_response, "200 OK", page, "text/html")
