"""Micro-benchmark: parsing one typical browser request, erlen's HTTP core against Werkzeug.

    python benchmarks/bench_parsing.py [--quick]

Two tables. First the parsers on their own (``erlen.http.parsing`` against
Werkzeug's and the standard library's equivalents), then a whole request object
built from the same data, with its headers, query, cookies and Accept header
read one after the other (each row adds one access to the row above).

erlen's side starts from the header pairs a server has already split
(``Headers.from_raw``); turning a WSGI environ into those pairs is the WSGI
adapter's work and is measured end to end by ``run.py``. Werkzeug's side starts
from the environ, as ``Request(environ)`` does. Parts that aren't importable
(erlen's request wrapper while it is being written, Werkzeug outside
``.venv-bench``) are reported as "n/a". Results are reported, never asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import urllib.parse
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
if "erlen" not in sys.modules and importlib.util.find_spec("erlen") is None:
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

from _harness import environment_lines  # noqa: E402
from _harness import format_us  # noqa: E402
from _harness import measure  # noqa: E402

METHOD = "GET"
PATH = "/products/search"
QUERY = "q=mechanical+keyboard&page=2&sort=price_desc&filter=brand%3Aacme&filter=color%3Ablack"
COOKIE = (
    "session=eyJ1c2VyIjoiYWxpY2UifQ.Zx8kAw.S2lnbmF0dXJlLW5vdC1yZWFsLWJ1dC1sb25n; "
    "csrftoken=Xk3pQ9vT2mLr8sWc4YhB7nJe1uGdFa6Z; _ga=GA1.1.1234567890.1700000000; "
    "_ga_ABC123XYZ=GS1.1.1700000000.1.1.1700000100.0.0.0; theme=dark; lang=en-GB"
)
ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
# What Chrome sends for a top-level navigation, in Chrome's order.
HEADER_PAIRS: list[tuple[str, str]] = [
    ("Host", "shop.example.com"),
    ("Connection", "keep-alive"),
    ("sec-ch-ua", '"Chromium";v="126", "Google Chrome";v="126", "Not-A.Brand";v="99"'),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", '"Linux"'),
    ("Upgrade-Insecure-Requests", "1"),
    (
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
    ),
    ("Accept", ACCEPT),
    ("Sec-Fetch-Site", "same-origin"),
    ("Sec-Fetch-Mode", "navigate"),
    ("Sec-Fetch-User", "?1"),
    ("Sec-Fetch-Dest", "document"),
    ("Referer", "https://shop.example.com/products"),
    ("Accept-Encoding", "gzip, deflate, br, zstd"),
    ("Accept-Language", "en-GB,en;q=0.9,de;q=0.8"),
    ("Cookie", COOKIE),
]
EXPECTED_BEST = "text/html"  # by RFC 9110: highest quality, then most specific
BEST_SEEN: dict[str, str] = {}  # accept_mimetypes.best, by library

STEPS = (
    ("construct", "build the request object"),
    ("+ headers['User-Agent']", "read one header"),
    ("+ args", "parse the query string, read 'q'"),
    ("+ cookies", "parse the Cookie header, read 'session'"),
    ("+ accept_mimetypes.best", "parse Accept, pick the best"),
)


def wsgi_environ() -> dict[str, Any]:
    """The same request as a WSGI environ, for Werkzeug."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": METHOD,
        "SCRIPT_NAME": "",
        "PATH_INFO": PATH,
        "QUERY_STRING": QUERY,
        "SERVER_NAME": "shop.example.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "wsgi.url_scheme": "https",
        "wsgi.input": sys.stdin.buffer if sys.stdin else None,
        "wsgi.errors": sys.stderr,
    }
    for name, value in HEADER_PAIRS:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def loop(body: Callable[[], object]) -> Callable[[int], int]:
    """``run(n)`` calling ``body`` n times and returning the elapsed nanoseconds."""
    import time

    clock = time.perf_counter_ns

    def run(n: int) -> int:
        start = clock()
        for _ in range(n):
            body()
        return clock() - start

    return run


# -- erlen ---------------------------------------------------------------------


def erlen_parsers() -> dict[str, Callable[[], object]] | str:
    try:
        from erlen.http import parsing
    except ImportError as exc:
        return f"erlen.http.parsing not importable: {exc}"
    query = QUERY.encode("latin-1")
    return {
        "query string": lambda: parsing.parse_qsl(query),
        "Cookie header": lambda: parsing.parse_cookie(COOKIE),
        "Accept header": lambda: parsing.parse_accept_header(ACCEPT),
    }


def erlen_request_steps() -> list[Callable[[], object]] | str:
    try:
        from erlen.http.headers import Headers
        from erlen.http.request import Request
    except ImportError as exc:
        return f"erlen.http.request not importable yet: {exc}"
    query = QUERY.encode("latin-1")
    from_raw = Headers.from_raw

    def make() -> Any:
        return Request(
            method=METHOD,
            scheme="https",
            server=("shop.example.com", 443),
            root_path="",
            path=PATH,
            query_string=query,
            # The adapter hands over a fresh list per request.
            headers=from_raw(list(HEADER_PAIRS)),
            remote_addr="203.0.113.7",
            stream=None,
        )

    return request_steps("erlen", make)


# -- Werkzeug ------------------------------------------------------------------


def werkzeug_parsers() -> dict[str, Callable[[], object]] | str:
    try:
        from werkzeug import http as wz_http
        from werkzeug.datastructures import MIMEAccept
    except ImportError as exc:
        return f"werkzeug not importable (use .venv-bench): {exc}"

    def query() -> object:
        # What werkzeug.sansio.Request.args does with the raw query string.
        return urllib.parse.parse_qsl(QUERY, keep_blank_values=True, errors="werkzeug.url_quote")

    return {
        "query string": query,
        "Cookie header": lambda: wz_http.parse_cookie(COOKIE),
        "Accept header": lambda: wz_http.parse_accept_header(ACCEPT, MIMEAccept),
    }


def werkzeug_request_steps() -> list[Callable[[], object]] | str:
    try:
        from werkzeug.wrappers import Request
    except ImportError as exc:
        return f"werkzeug not importable (use .venv-bench): {exc}"
    environ = wsgi_environ()
    return request_steps("werkzeug", lambda: Request(environ))


def request_steps(who: str, make: Callable[[], Any]) -> list[Callable[[], object]]:
    """One callable per row of STEPS, each doing one more access than the last."""

    def construct() -> object:
        return make()

    def user_agent() -> object:
        return make().headers["User-Agent"]

    def args() -> object:
        r = make()
        return r.headers["User-Agent"], r.args.get("q")

    def cookies() -> object:
        r = make()
        return r.headers["User-Agent"], r.args.get("q"), r.cookies.get("session")

    def accept() -> object:
        r = make()
        return (
            r.headers["User-Agent"],
            r.args.get("q"),
            r.cookies.get("session"),
            r.accept_mimetypes.best,
        )

    # Check once that the object answers correctly before timing it.
    ua, q, session, best = accept()
    assert ua.startswith("Mozilla/5.0"), ua
    assert q == "mechanical keyboard", q
    assert session is not None and session.startswith("eyJ1c2Vy"), session
    # Not compared with EXPECTED_BEST: Werkzeug 3.1 ranks Chrome's
    # "application/signed-exchange;v=b3;q=0.7" first (it sorts by specificity
    # before quality); the value each side picks is printed below the table.
    assert isinstance(best, str) and best, best
    BEST_SEEN[who] = best
    return [construct, user_agent, args, cookies, accept]


# -- report --------------------------------------------------------------------


def time_all(bodies: list[Callable[[], object]] | str, target_s: float, repeats: int) -> list[Any]:
    if isinstance(bodies, str):
        return [None] * len(STEPS)
    return [measure(loop(b), target_s, repeats).best_ns for b in bodies]


def print_table(title: str, names: list[str], erlen: list[Any], wz: list[Any]) -> None:
    rows = [["", "erlen µs", "werkzeug µs", "werkzeug/erlen"]]
    for name, e, w in zip(names, erlen, wz, strict=True):
        ratio = f"{w / e:.2f}x" if e and w else "-"
        rows.append([name, format_us(e), format_us(w), ratio])
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"\n{title}")
    for n, row in enumerate(rows):
        print(
            "  ".join(
                [
                    row[0].ljust(widths[0]),
                    *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)),
                ]
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a rough pass")
    args = parser.parse_args(argv)
    target_s, repeats = (0.02, 3) if args.quick else (0.1, 5)
    print("\n".join(environment_lines()))
    print(f"µs per call, best of {repeats}")

    e_parsers, w_parsers = erlen_parsers(), werkzeug_parsers()
    names = ["query string", "Cookie header", "Accept header"]
    e_times = (
        [None] * 3
        if isinstance(e_parsers, str)
        else time_all([e_parsers[k] for k in names], target_s, repeats)
    )
    w_times = (
        [None] * 3
        if isinstance(w_parsers, str)
        else time_all([w_parsers[k] for k in names], target_s, repeats)
    )
    print_table(
        "parsers (erlen.http.parsing vs werkzeug.http / urllib.parse)", names, e_times, w_times
    )

    e_steps, w_steps = erlen_request_steps(), werkzeug_request_steps()
    print_table(
        "request object (cumulative: each row adds one access)",
        [name for name, _ in STEPS],
        time_all(e_steps, target_s, repeats),
        time_all(w_steps, target_s, repeats),
    )
    reasons = [r for r in (e_parsers, w_parsers, e_steps, w_steps) if isinstance(r, str)]
    for reason in dict.fromkeys(reasons):
        print(f"- n/a: {reason}")
    for who, best in BEST_SEEN.items():
        verdict = (
            "as RFC 9110 ranks it" if best == EXPECTED_BEST else f"RFC 9110: {EXPECTED_BEST!r}"
        )
        print(f"- {who}: accept_mimetypes.best = {best!r} ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
