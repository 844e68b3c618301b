"""Shared pieces of the benchmarks: scenarios, WSGI environs, checks and the timer.

Nothing here imports a web framework, so the runner's parent process stays clean
and each framework is imported only in its own child process.
"""

from __future__ import annotations

import gc
import io
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Headers a desktop browser sends with every request; each scenario adds its own.
BROWSER_HEADERS: dict[str, str] = {
    "HTTP_HOST": "localhost:8000",
    "HTTP_USER_AGENT": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
    ),
    "HTTP_ACCEPT": (
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
    ),
    "HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9,de;q=0.8",
    "HTTP_ACCEPT_ENCODING": "gzip, deflate, br, zstd",
    "HTTP_CONNECTION": "keep-alive",
}

FORM_BODY = b"name=alice&email=alice%40example.com&age=30&bio=hello+world"


@dataclass(frozen=True)
class Scenario:
    """One request, sent identically to every framework, and what must come back."""

    name: str
    description: str
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    content_type: str = ""
    cookie: str = ""
    # Substrings the body must contain (after decoding as UTF-8).
    expect_text: tuple[str, ...] = ()
    # When set, the body must be JSON equal to this.
    expect_json: dict[str, Any] | None = None
    # The six core scenarios have the 5x-Flask and 1.5x-Falcon bars; the
    # others only the 2x-Flask bar.
    core: bool = True
    # The request carries the app's own signed session cookie.
    needs_session: bool = False


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "hello",
        "GET / -> 'Hello, World!'",
        "GET",
        "/",
        expect_text=("Hello, World!",),
    ),
    Scenario(
        "path_json",
        "GET /user/<int:id> -> JSON object",
        "GET",
        "/user/42",
        expect_json={"id": 42, "name": "user42"},
    ),
    Scenario(
        "query",
        "GET /search?q=erlen&page=2&limit=10 -> echo q, page",
        "GET",
        "/search",
        query="q=erlen&page=2&limit=10",
        expect_text=("q=erlen", "page=2"),
    ),
    Scenario(
        "form",
        "POST /form urlencoded (4 fields) -> echo name, email",
        "POST",
        "/form",
        body=FORM_BODY,
        content_type="application/x-www-form-urlencoded",
        expect_text=("name=alice", "email=alice@example.com"),
    ),
    Scenario(
        "cookie",
        "GET /cookie with 3 cookies -> echo session_id",
        "GET",
        "/cookie",
        cookie="session_id=abc123; theme=dark; lang=en",
        expect_text=("session_id=abc123",),
    ),
    Scenario(
        "route100",
        "GET /r99/7 among 100 rules /rN/<int:id>",
        "GET",
        "/r99/7",
        expect_text=("r99 7",),
    ),
    Scenario(
        "template",
        "GET /template -> Jinja2 file template, 10-item list",
        "GET",
        "/template",
        expect_text=("<li>Item 0 &amp; co</li>", "<li>Item 9 &amp; co</li>"),
        core=False,
    ),
    Scenario(
        "session_read",
        "GET /session with a signed session cookie -> read one key",
        "GET",
        "/session",
        expect_text=("user=alice",),
        core=False,
        needs_session=True,
    ),
)

SCENARIOS_BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def build_environ(scenario: Scenario, session_cookie: str = "") -> dict[str, Any]:
    """The WSGI environ for one scenario, minus ``wsgi.input`` (fresh per call)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scenario.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": scenario.path,
        "QUERY_STRING": scenario.query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "54321",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **BROWSER_HEADERS,
    }
    if scenario.body or scenario.method in ("POST", "PUT", "PATCH"):
        environ["CONTENT_LENGTH"] = str(len(scenario.body))
    if scenario.content_type:
        environ["CONTENT_TYPE"] = scenario.content_type
    cookie = "; ".join(c for c in (scenario.cookie, session_cookie) if c)
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    return environ


@dataclass
class Captured:
    """What one WSGI call answered."""

    status: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), "")


def call_once(app: WSGIApp, environ: dict[str, Any], body: bytes = b"") -> Captured:
    """Call the app once with a copy of ``environ`` and capture the full response."""
    captured = Captured()
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        captured.status = status
        captured.headers = list(headers)
        return chunks.append

    env = environ.copy()
    env["wsgi.input"] = io.BytesIO(body)
    iterable = app(env, start_response)
    try:
        for chunk in iterable:
            chunks.append(chunk)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    captured.body = b"".join(chunks)
    return captured


def check(scenario: Scenario, response: Captured) -> str | None:
    """Why ``response`` is a wrong answer to ``scenario``, or None when it is right."""
    if not response.status.startswith("200"):
        return f"status {response.status!r}, expected 200: {response.body[:200]!r}"
    try:
        text = response.body.decode("utf-8")
    except UnicodeDecodeError:
        return f"body is not UTF-8: {response.body[:200]!r}"
    if scenario.expect_json is not None:
        if "json" not in response.header("Content-Type"):
            return f"Content-Type {response.header('Content-Type')!r} is not JSON"
        try:
            data = json.loads(text)
        except ValueError:
            return f"body is not JSON: {text[:200]!r}"
        if data != scenario.expect_json:
            return f"JSON {data!r}, expected {scenario.expect_json!r}"
    for needle in scenario.expect_text:
        if needle not in text:
            return f"body lacks {needle!r}: {text[:200]!r}"
    return None


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: Any = None
) -> Callable[[bytes], None]:
    return _discard


def _discard(data: bytes) -> None:
    return None


def wsgi_loop(app: WSGIApp, environ: dict[str, Any], body: bytes) -> Callable[[int], int]:
    """A function that makes ``n`` WSGI calls and returns the elapsed nanoseconds.

    Each call gets a fresh environ copy with a fresh ``wsgi.input``; that cost is
    the same for every framework. The body iterable is consumed and closed.
    """
    copy = environ.copy
    bytes_io = io.BytesIO
    start_response = _start_response
    clock = time.perf_counter_ns

    def run(n: int) -> int:
        start = clock()
        for _ in range(n):
            env = copy()
            env["wsgi.input"] = bytes_io(body)
            iterable = app(env, start_response)
            for _chunk in iterable:
                pass
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return clock() - start

    return run


@dataclass
class Timing:
    """Per-iteration times of one measurement, in nanoseconds."""

    n: int
    samples_ns: list[float]

    @property
    def best_ns(self) -> float:
        return min(self.samples_ns)

    @property
    def median_ns(self) -> float:
        return statistics.median(self.samples_ns)

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "best_ns": self.best_ns,
            "median_ns": self.median_ns,
            "samples_ns": self.samples_ns,
        }


def measure(run: Callable[[int], int], target_s: float = 0.2, repeats: int = 5) -> Timing:
    """Time ``run(n)``: calibrate ``n`` so one repeat takes about ``target_s``.

    The garbage collector stays enabled (frameworks that make reference cycles
    pay for them, as in production) but is emptied before each repeat.
    """
    target_ns = target_s * 1e9
    # Warm up: caches, lazily compiled routers and templates, the specializer.
    run(20)
    n = 1
    while True:
        elapsed = run(n)
        if elapsed >= target_ns / 10 or n >= 10_000_000:
            break
        n *= 4 if elapsed < target_ns / 100 else 2
    n = max(1, round(n * target_ns / max(elapsed, 1)))
    samples: list[float] = []
    for _ in range(repeats):
        gc.collect()
        samples.append(run(n) / n)
    return Timing(n, samples)


def cpu_model() -> str:
    """The CPU's model name, as well as this platform tells it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def environment_lines() -> list[str]:
    """Interpreter, OS and CPU, one fact per line."""
    impl = platform.python_implementation()
    lines = [
        f"Python {platform.python_version()} ({impl}, {platform.python_compiler()})",
        f"{platform.system()} {platform.release()} {platform.machine()}",
        f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs",
    ]
    if hasattr(os, "getloadavg"):
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        lines.append(f"load average before the run: {load}")
    return lines


def format_us(ns: float | None) -> str:
    """Nanoseconds per request as microseconds, three significant digits."""
    if ns is None:
        return "n/a"
    us = ns / 1000
    if us >= 99.95:
        return f"{us:.0f}"
    if us >= 9.995:
        return f"{us:.1f}"
    return f"{us:.2f}"
