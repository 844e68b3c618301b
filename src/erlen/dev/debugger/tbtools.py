"""Traceback models and their three renderings: HTML, JSON and plain text.

A :class:`DebugTraceback` walks an exception once (its frames, the chain of
causes and contexts, the members of exception groups, notes) and keeps the
frames alive so the console can evaluate in them later.
"""

from __future__ import annotations

import collections.abc as cabc
import html
import linecache
import os
import re
import reprlib
import secrets
import site
import sysconfig
import traceback
import types
import typing as t
from urllib.parse import quote

#: How many source lines to show before and after the failing line.
CONTEXT_LINES = 4
#: Limits for exception groups, as the standard traceback module has.
MAX_GROUP_DEPTH = 10
MAX_GROUP_WIDTH = 50
MAX_CHAIN = 50

_ERLEN_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Header names whose values are secrets: never shown, even to a trusted host.
_SECRET_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization", "set-cookie"})
_SECRET_HEADER_RE = re.compile(
    r"api[-_]?key|token|secret|passw|credential|signature|session|auth", re.IGNORECASE
)
MASK = "******** (masked)"


def _library_dirs() -> tuple[str, ...]:
    dirs: set[str] = {_ERLEN_DIR}
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            dirs.add(paths[key])
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:  # pragma: no cover - some virtualenv versions
        pass
    user_site = site.getusersitepackages()
    if isinstance(user_site, str):
        dirs.add(user_site)
    return tuple(sorted({os.path.normcase(os.path.abspath(d)) + os.sep for d in dirs}))


_LIBRARY_DIRS = _library_dirs()


def is_library_file(filename: str) -> bool:
    """Whether ``filename`` is library code: stdlib, site-packages or erlen itself.

    Everything else is the developer's app; the page can hide library frames.
    """
    if not filename or filename.startswith("<"):
        return True
    path = os.path.normcase(os.path.abspath(filename))
    if f"{os.sep}site-packages{os.sep}" in path or f"{os.sep}dist-packages{os.sep}" in path:
        return True
    return path.startswith(_LIBRARY_DIRS)


def _make_repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxstring = 240
    r.maxother = 240
    r.maxlong = 80
    r.maxlist = r.maxtuple = r.maxset = r.maxfrozenset = r.maxdeque = r.maxarray = 20
    r.maxdict = 20
    r.maxlevel = 3
    return r


_repr = _make_repr()


def safe_repr(value: object, limit: int = 1000) -> str:
    """A truncated repr that never raises (a broken ``__repr__`` is reported instead)."""
    try:
        text = _repr.repr(value)
    except Exception as e:
        text = f"<repr of {type(value).__name__} failed: {type(e).__name__}: {e}>"
    if len(text) > limit:
        text = text[:limit] + "..."
    return text


def exception_type_name(exc: BaseException) -> str:
    """``ValueError`` for builtins, ``module.Qualified`` otherwise."""
    cls = type(exc)
    module = cls.__module__
    if module in ("builtins", "__main__", None):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def exception_message(exc: BaseException) -> str:
    """``str(exc)``, or a note that it failed."""
    try:
        return str(exc)
    except Exception as e:
        return f"<str() of {type(exc).__name__} failed: {type(e).__name__}>"


def _notes(exc: BaseException) -> list[str]:
    notes = getattr(exc, "__notes__", None)
    if not isinstance(notes, (list, tuple)):
        return []
    return [n if isinstance(n, str) else safe_repr(n) for n in notes]


class Frame:
    """One frame of a traceback, with its source context and (dead) locals."""

    def __init__(self, id: int, frame: types.FrameType, lineno: int) -> None:
        self.id = id
        self.frame = frame
        self.lineno = lineno
        code = frame.f_code
        self.filename = code.co_filename
        self.function = getattr(code, "co_qualname", code.co_name)
        self.is_app = not is_library_file(self.filename)
        self.line = linecache.getline(self.filename, lineno, frame.f_globals).strip()

    @property
    def hidden(self) -> bool:
        """Whether the frame asks to be hidden (``__traceback_hide__`` in its locals)."""
        try:
            return bool(self.frame.f_locals.get("__traceback_hide__"))
        except Exception:
            return False

    def context(self, lines: int = CONTEXT_LINES) -> tuple[int, list[str]]:
        """``(first line number, source lines)`` around the failing line."""
        source = linecache.getlines(self.filename, self.frame.f_globals)
        if not source:
            return self.lineno, []
        start = max(1, self.lineno - lines)
        end = min(len(source), self.lineno + lines)
        return start, [line.rstrip("\r\n") for line in source[start - 1 : end]]

    def locals(self, secrets_: cabc.Sequence[str] = ()) -> list[tuple[str, str]]:
        """``(name, truncated repr)`` for each local variable, request secrets blanked."""
        try:
            items = list(self.frame.f_locals.items())
        except Exception:
            return []
        # SECURITY: credentials of the request are blanked in every repr.
        return [(str(name), redact(safe_repr(value), secrets_)) for name, value in items]

    def to_json(self) -> dict[str, t.Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "lineno": self.lineno,
            "function": self.function,
            "line": self.line,
            "is_app": self.is_app,
        }


class ExceptionInfo:
    """One exception: its frames, notes, group members, and what it was raised from."""

    def __init__(
        self,
        exc: BaseException,
        tb: DebugTraceback,
        seen: set[int],
        depth: int = 0,
    ) -> None:
        seen.add(id(exc))
        self.exc = exc
        self.type = exception_type_name(exc)
        self.message = exception_message(exc)
        self.notes = _notes(exc)
        self.frames: list[Frame] = []
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            f = tb._new_frame(frame, lineno)
            if f is not None:
                self.frames.append(f)
        #: Members of an exception group, each with its own traceback and chain.
        self.exceptions: list[ExceptionInfo] = []
        self.truncated_members = 0
        if isinstance(exc, BaseExceptionGroup) and depth < MAX_GROUP_DEPTH:
            members = list(exc.exceptions)
            for member in members[:MAX_GROUP_WIDTH]:
                if id(member) not in seen:
                    self.exceptions.append(ExceptionInfo(member, tb, seen, depth + 1))
            self.truncated_members = max(0, len(members) - MAX_GROUP_WIDTH)
        #: ``(relation, earlier exception)``: relation is "cause" or "context".
        self.previous: tuple[str, ExceptionInfo] | None = None
        prev: BaseException | None = None
        relation = ""
        if exc.__cause__ is not None:
            prev, relation = exc.__cause__, "cause"
        elif exc.__context__ is not None and not exc.__suppress_context__:
            prev, relation = exc.__context__, "context"
        if prev is not None and id(prev) not in seen and len(seen) < MAX_CHAIN * 4:
            self.previous = (relation, ExceptionInfo(prev, tb, seen, depth))

    def chain(self) -> list[tuple[str, ExceptionInfo]]:
        """The earlier exceptions, nearest first, each with how it leads to the next."""
        out: list[tuple[str, ExceptionInfo]] = []
        node = self.previous
        while node is not None and len(out) < MAX_CHAIN:
            out.append(node)
            node = node[1].previous
        return out

    def to_json(self, with_chain: bool = True) -> dict[str, t.Any]:
        data: dict[str, t.Any] = {
            "type": self.type,
            "message": self.message,
            "frames": [f.to_json() for f in self.frames],
            "notes": self.notes,
        }
        if with_chain:
            data["chained"] = [
                {"relation": relation, **info.to_json(with_chain=False)}
                for relation, info in self.chain()
            ]
        if self.exceptions or isinstance(self.exc, BaseExceptionGroup):
            data["exceptions"] = [member.to_json() for member in self.exceptions]
        return data


def _is_secret_header(name: str) -> bool:
    return name.lower() in _SECRET_HEADERS or _SECRET_HEADER_RE.search(name) is not None


def secret_values(environ: cabc.Mapping[str, t.Any]) -> list[str]:
    """The credentials in a request: secret header values, each cookie value, tokens.

    They are blanked wherever they show up in locals (an ``environ`` or a
    ``request`` repr would otherwise show them).
    """
    values: set[str] = set()
    for key, value in environ.items():
        if not key.startswith("HTTP_") or not _is_secret_header(key[5:].replace("_", "-")):
            continue
        text = str(value)
        values.add(text)
        values.update(text.split())
        for part in text.split(";"):
            values.add(part.strip())
            values.add(part.partition("=")[2].strip().strip('"'))
    # Longest first, so a whole header is replaced before its parts.
    return sorted((v for v in values if len(v) >= 4), key=len, reverse=True)


def redact(text: str, secrets_: cabc.Sequence[str]) -> str:
    """``text`` with every secret value replaced by a mask."""
    for value in secrets_:
        if value in text:
            text = text.replace(value, "********")
    return text


def _masked_headers(environ: cabc.Mapping[str, t.Any]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key.replace("_", "-").title()
        else:
            continue
        text = str(value)
        # SECURITY: credentials never appear on the page, even for trusted hosts.
        if _is_secret_header(name):
            text = MASK
        headers.append((name, text))
    return headers


def request_url(environ: cabc.Mapping[str, t.Any]) -> str:
    """The request's URL rebuilt from the environ."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}"
    path = quote(
        environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/;=,~!$&'()*+:@%"
    )
    query = environ.get("QUERY_STRING", "")
    return f"{scheme}://{host}{path}" + (f"?{query}" if query else "")


class DebugTraceback:
    """A captured unhandled exception, addressable by a random id."""

    def __init__(
        self,
        exc: BaseException,
        environ: cabc.Mapping[str, t.Any] | None = None,
        show_hidden_frames: bool = False,
        context: t.Any = None,
    ) -> None:
        #: Random, so a URL can't be guessed.
        self.id = secrets.token_hex(8)
        #: The page's secret: eval requests must send it back.
        self.secret = secrets.token_urlsafe(24)
        self.show_hidden_frames = show_hidden_frames
        self.frames: dict[int, Frame] = {}
        #: The app/request context active when the error happened (for the console).
        self.context = context
        self.consoles: dict[int, t.Any] = {}
        self.exc = exc
        self.root = ExceptionInfo(exc, self, set())
        self.text = "".join(traceback.format_exception(exc))
        environ = environ or {}
        self.method = str(environ.get("REQUEST_METHOD", "GET"))
        self.url = request_url(environ)
        self.headers = _masked_headers(environ)
        self.secret_values = secret_values(environ)

    def _new_frame(self, frame: types.FrameType, lineno: int | None) -> Frame | None:
        f = Frame(len(self.frames), frame, lineno or frame.f_lineno or 0)
        if f.hidden and not self.show_hidden_frames:
            return None
        self.frames[f.id] = f
        return f

    @property
    def has_app_frames(self) -> bool:
        return any(f.is_app for f in self.frames.values())

    def to_json(self, url_prefix: str = "") -> dict[str, t.Any]:
        """The JSON problem document: the exception, its chain, a text traceback, a link."""
        data = self.root.to_json()
        data["traceback"] = self.text
        data["traceback_url"] = f"{url_prefix}/__debugger__/{self.id}"
        data["request"] = {
            "method": self.method,
            "url": self.url,
            "headers": dict(self.headers),
        }
        return data


# -- HTML ----------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _render_frame(frame: Frame, console: bool, secrets_: cabc.Sequence[str]) -> str:
    kind = "app" if frame.is_app else "library"
    start, lines = frame.context()
    rows = []
    for number, text in enumerate(lines, start):
        current = ' class="current"' if number == frame.lineno else ""
        rows.append(
            f'<tr{current}><td class="lineno">{number}</td><td class="code">{_e(text)}</td></tr>'
        )
    source = (
        f'<table class="source">{"".join(rows)}</table>'
        if rows
        else '<p class="no-source">No source available.</p>'
    )
    local_rows = "".join(
        f'<tr><th scope="row">{_e(name)}</th><td><code>{_e(value)}</code></td></tr>'
        for name, value in frame.locals(secrets_)
    )
    locals_html = (
        f'<details class="locals"><summary>Locals</summary>'
        f'<table class="locals-table">{local_rows}</table></details>'
        if local_rows
        else ""
    )
    console_html = ""
    if console:
        console_html = (
            f'<button type="button" class="console-toggle" data-frame="{frame.id}">'
            "Open console</button>"
            f'<div class="console" data-frame="{frame.id}" hidden>'
            '<pre class="console-output" aria-live="polite"></pre>'
            '<label class="console-prompt">&gt;&gt;&gt; '
            '<input class="console-input" type="text" autocomplete="off" spellcheck="false"'
            f' aria-label="Python console in frame {frame.id}"></label></div>'
        )
    return (
        f'<div class="frame {kind}" id="frame-{frame.id}" data-frame="{frame.id}">'
        f'<div class="frame-head"><span class="kind">{kind}</span> '
        f'File <span class="filename">"{_e(frame.filename)}"</span>, '
        f'line <span class="lineno">{frame.lineno}</span>, '
        f'in <span class="function">{_e(frame.function)}</span></div>'
        f"{source}{locals_html}{console_html}</div>"
    )


_RELATION_TEXT = {
    "cause": "The above exception was the direct cause of the following exception:",
    "context": "During handling of the above exception, another exception occurred:",
}


def _render_exception(
    info: ExceptionInfo, console: bool, secrets_: cabc.Sequence[str], depth: int = 0
) -> str:
    parts = []
    chain = info.chain()
    # Oldest first, as Python prints it.
    for relation, earlier in reversed(chain):
        parts.append(_render_single(earlier, console, secrets_, depth))
        parts.append(f'<p class="chain-relation {relation}">{_e(_RELATION_TEXT[relation])}</p>')
    parts.append(_render_single(info, console, secrets_, depth))
    return "".join(parts)


def _render_single(
    info: ExceptionInfo, console: bool, secrets_: cabc.Sequence[str], depth: int
) -> str:
    frames = "".join(_render_frame(f, console, secrets_) for f in info.frames)
    notes = "".join(f'<li class="note">{_e(n)}</li>' for n in info.notes)
    notes_html = f'<ul class="notes">{notes}</ul>' if notes else ""
    members = ""
    if info.exceptions:
        items = []
        for index, member in enumerate(info.exceptions, 1):
            inner = _render_exception(member, console, secrets_, depth + 1)
            items.append(
                f'<div class="group-member"><h4>Sub-exception {index} of'
                f" {len(info.exceptions)}</h4>{inner}</div>"
            )
        if info.truncated_members:
            items.append(f"<p>... and {info.truncated_members} more sub-exceptions</p>")
        members = f'<div class="group-members">{"".join(items)}</div>'
    return (
        f'<section class="exception{" group" if info.exceptions else ""}">'
        f'<h3 class="exception-title"><span class="exc-type">{_e(info.type)}</span>: '
        f'<span class="exc-message">{_e(info.message)}</span></h3>'
        f'<div class="frames">{frames}</div>{notes_html}{members}</section>'
    )


def render_html(
    tb: DebugTraceback | None,
    *,
    prefix: str,
    console: bool,
    pin_required: bool,
    notice: str | None,
    title: str | None = None,
    console_secret: str = "",
) -> str:
    """The full HTML page: a traceback (or, with ``tb=None``, the standalone console).

    ``console`` shows per-frame consoles; ``notice`` explains why the console is
    off; ``pin_required`` shows the PIN prompt.
    """
    static = f"{prefix}/__debugger__/static"
    if tb is not None:
        heading = f"{tb.root.type}: {tb.root.message}"
        body = _render_exception(tb.root, console, tb.secret_values)
        headers = "".join(
            f'<tr><th scope="row">{_e(k)}</th><td><code>{_e(v)}</code></td></tr>'
            for k, v in tb.headers
        )
        request_html = (
            '<section id="request"><h2>Request</h2>'
            f'<p><code class="request-line">{_e(tb.method)} {_e(tb.url)}</code></p>'
            f'<details><summary>Headers</summary><table class="headers">{headers}</table>'
            "</details></section>"
        )
        text = f'<textarea id="traceback-text" readonly hidden>{_e(tb.text)}</textarea>'
        toolbar = (
            '<div id="toolbar"><label><input type="checkbox" id="toggle-library"'
            f"{' checked' if tb.has_app_frames else ''}> Hide library frames</label>"
            '<button type="button" id="copy-text">Copy traceback as text</button>'
            '<span id="copy-status" aria-live="polite"></span></div>'
        )
        tb_id, secret = tb.id, tb.secret
        body_class = "traceback" + (" hide-library" if tb.has_app_frames else "")
    else:
        heading = title or "Interactive console"
        body = ""
        if console:
            body = (
                '<section class="exception"><div class="frames">'
                '<div class="frame app standalone" id="frame-0" data-frame="0">'
                '<div class="console" data-frame="0"><pre class="console-output"></pre>'
                '<label class="console-prompt">&gt;&gt;&gt; <input class="console-input"'
                ' type="text" autocomplete="off" spellcheck="false" aria-label="Python console">'
                "</label></div></div></div></section>"
            )
        request_html = text = toolbar = ""
        tb_id, secret = "console", console_secret
        body_class = "console-page"
    notice_html = f'<p id="console-notice" class="notice">{_e(notice)}</p>' if notice else ""
    pin_html = ""
    if console and pin_required:
        pin_html = (
            '<form id="pin-form" method="post" action="#">'
            "<p>The console is locked. Enter the debugger PIN printed in the server's"
            " terminal to unlock it.</p>"
            '<label>PIN <input id="pin-input" name="pin" type="password" inputmode="numeric"'
            ' autocomplete="off"></label> <button id="pin-submit" type="submit">Unlock</button>'
            '<p id="pin-message" aria-live="polite"></p></form>'
        )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(heading)} // erlen debugger</title>"
        f'<link rel="stylesheet" href="{_e(static)}/debugger.css"></head>'
        f'<body class="{body_class}" data-traceback="{_e(tb_id)}" data-secret="{_e(secret)}"'
        f' data-prefix="{_e(prefix)}" data-console="{"on" if console else "off"}"'
        f' data-pin-required="{"yes" if console and pin_required else "no"}">'
        f'<header><h1 id="title">{_e(heading)}</h1>{notice_html}{pin_html}{toolbar}</header>'
        f'<main id="traceback">{body}</main>{request_html}{text}'
        "<footer>erlen development debugger. Never run it in production.</footer>"
        f'<script src="{_e(static)}/debugger.js"></script></body></html>'
    )
