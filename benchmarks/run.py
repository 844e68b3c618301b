"""Side-by-side in-process WSGI benchmarks: erlen against Flask, Falcon and Bottle.

    python benchmarks/run.py                      # everything, ~1 minute
    python benchmarks/run.py --quick              # a rough pass, a few seconds
    python benchmarks/run.py --frameworks erlen,flask --scenarios hello,form

The parent process runs each framework in its own child process
(``run.py --framework NAME --json``) so imports and GC state don't interfere,
then prints one table and writes it to ``benchmarks/results/latest.md``.
Results are reported, never asserted.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.metadata
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
# erlen may not be installed in this environment (yet): use the checkout.
if "erlen" not in sys.modules and importlib.util.find_spec("erlen") is None:
    sys.path.insert(0, os.path.join(ROOT, "src"))

from _harness import SCENARIOS  # noqa: E402
from _harness import SCENARIOS_BY_NAME  # noqa: E402
from _harness import build_environ  # noqa: E402
from _harness import call_once  # noqa: E402
from _harness import check  # noqa: E402
from _harness import environment_lines  # noqa: E402
from _harness import format_us  # noqa: E402
from _harness import measure  # noqa: E402
from _harness import wsgi_loop  # noqa: E402

FRAMEWORKS = ("erlen", "flask", "falcon", "bottle")
# Distributions whose versions the report shows.
DISTRIBUTIONS = ("erlen", "flask", "werkzeug", "falcon", "bottle", "jinja2", "itsdangerous")
CORE_FLASK_BAR = 5.0  # erlen at least this many times faster than Flask
EXTRA_FLASK_BAR = 2.0  # the same for template and session_read
FALCON_BAR = 1.5  # erlen's time at most this multiple of Falcon's
RESULTS_FILE = os.path.join(HERE, "results", "latest.md")


# -- child: one framework ------------------------------------------------------


def package_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def framework_version(framework: str) -> str:
    version = package_version(framework)
    if version is not None:
        return version
    module = sys.modules.get(framework)
    return f"{getattr(module, '__version__', '?')} (source checkout)"


def run_framework(
    framework: str, scenarios: list[str], target_s: float, repeats: int
) -> dict[str, Any]:
    """Check, then time, every scenario against one framework (in this process)."""
    report: dict[str, Any] = {"framework": framework, "results": {}, "notes": []}
    try:
        module = importlib.import_module(f"apps.{framework}_app")
        # Flask opens the session on every request once SECRET_KEY is set, so
        # only session_read gets an app with a key: the other scenarios are
        # measured against Flask at its fastest.
        plain = module.create_app()
        keyed = module.create_app(sessions=True) if "session_read" in scenarios else plain
    except Exception as exc:  # e.g. erlen's app core hasn't landed yet
        report["error"] = f"{type(exc).__name__}: {exc}"
        report["version"] = package_version(framework)
        return report
    report["version"] = framework_version(framework)
    report["notes"] = plain.notes
    if framework == "falcon":
        report["notes"].append(_falcon_build())
    for name in scenarios:
        scenario = SCENARIOS_BY_NAME[name]
        bench = keyed if scenario.needs_session else plain
        if name in bench.unsupported:
            report["results"][name] = {"status": "n/a", "reason": bench.unsupported[name]}
            continue
        if name in bench.failures:
            report["results"][name] = {"status": "FAIL", "reason": bench.failures[name]}
            continue
        environ = build_environ(scenario, bench.session_cookie if scenario.needs_session else "")
        try:
            problem = check(scenario, call_once(bench.wsgi, environ, scenario.body))
        except Exception as exc:
            problem = f"raised {type(exc).__name__}: {exc}"
        if problem is not None:
            report["results"][name] = {"status": "FAIL", "reason": problem}
            continue
        timing = measure(wsgi_loop(bench.wsgi, environ, scenario.body), target_s, repeats)
        report["results"][name] = {"status": "ok", **timing.as_dict()}
    return report


def _falcon_build() -> str:
    """Which parts of Falcon run compiled: its wheels ship Cython helpers
    (``falcon.cyutil``: query-string and URI decoding, among others) even when
    the app and the request classes are pure Python."""
    compiled = sorted(
        name
        for name, module in sys.modules.items()
        if name.startswith("falcon")
        and getattr(module, "__file__", None)
        and module.__file__.endswith((".so", ".pyd"))
    )
    if not compiled:
        return "falcon runs as pure Python"
    return "falcon's compiled (Cython) modules in use: " + ", ".join(compiled)


# -- parent: all frameworks, one table ---------------------------------------


def run_child(framework: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--framework",
        framework,
        "--json",
        "--scenarios",
        ",".join(args.scenarios),
        "--min-time",
        str(args.min_time),
        "--repeat",
        str(args.repeat),
    ]
    started = time.perf_counter()
    print(f"  {framework:<7} ...", end="", file=sys.stderr, flush=True)
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    print(f" {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {
            "framework": framework,
            "error": f"child exited {proc.returncode}: {last}",
            "results": {},
        }
    return json.loads(proc.stdout)


def merge(into: dict[str, Any], report: dict[str, Any]) -> None:
    """Fold a later round's report into the first: all samples count."""
    if "error" in into or "error" in report:
        into.setdefault("error", report.get("error"))
        return
    for name, result in report["results"].items():
        old = into["results"].get(name)
        if old is None or old["status"] != "ok" or result["status"] != "ok":
            into["results"][name] = result if old is None or old["status"] == "ok" else old
            continue
        samples = old["samples_ns"] + result["samples_ns"]
        old.update(samples_ns=samples, best_ns=min(samples), median_ns=statistics.median(samples))


def run_rounds(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Run every framework's child once per round, alternating the order.

    With more than one round, slow drifts in machine load hit every framework
    alike instead of whichever happened to run during them.
    """
    reports: dict[str, dict[str, Any]] = {}
    for round_no in range(args.rounds):
        if args.rounds > 1:
            print(f"round {round_no + 1}/{args.rounds}", file=sys.stderr)
        order = args.frameworks if round_no % 2 == 0 else args.frameworks[::-1]
        for fw in order:
            report = run_child(fw, args)
            if fw in reports:
                merge(reports[fw], report)
            else:
                reports[fw] = report
    return reports


def best_ns(report: dict[str, Any], scenario: str) -> float | None:
    result = report.get("results", {}).get(scenario)
    if result and result.get("status") == "ok":
        return float(result["best_ns"])
    return None


def cell(report: dict[str, Any], scenario: str) -> str:
    """Best µs/request with the median in parentheses, or why there is none."""
    if "error" in report:
        return "n/a"
    result = report["results"].get(scenario)
    if result is None:
        return "-"
    if result["status"] != "ok":
        return result["status"]
    return f"{format_us(result['best_ns'])} ({format_us(result['median_ns'])})"


def ratio_cells(reports: dict[str, dict[str, Any]], scenario: str) -> tuple[str, str]:
    """``flask/erlen`` and ``erlen/falcon`` with a ✔/✘ against the bars."""
    core = SCENARIOS_BY_NAME[scenario].core
    erlen = best_ns(reports.get("erlen", {}), scenario)
    flask = best_ns(reports.get("flask", {}), scenario)
    falcon = best_ns(reports.get("falcon", {}), scenario)
    flask_cell = falcon_cell = "-"
    if erlen is not None and flask is not None:
        ratio = flask / erlen
        bar = CORE_FLASK_BAR if core else EXTRA_FLASK_BAR
        flask_cell = f"{ratio:.2f}x {'✔' if ratio >= bar else '✘'}"
    if erlen is not None and falcon is not None:
        ratio = erlen / falcon
        mark = (" ✔" if ratio <= FALCON_BAR else " ✘") if core else ""
        falcon_cell = f"{ratio:.2f}x{mark}"
    return flask_cell, falcon_cell


def table_rows(reports: dict[str, dict[str, Any]], args: argparse.Namespace) -> list[list[str]]:
    header = ["scenario", *(f"{fw} µs" for fw in args.frameworks), "flask/erlen", "erlen/falcon"]
    rows = [header]
    for scenario in args.scenarios:
        row = [scenario, *(cell(reports[fw], scenario) for fw in args.frameworks)]
        rows.append([*row, *ratio_cells(reports, scenario)])
    return rows


def plain_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        parts = [
            row[0].ljust(widths[0]),
            *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)),
        ]
        lines.append("  ".join(parts))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(rows[0]) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def footnotes(reports: dict[str, dict[str, Any]]) -> list[str]:
    notes = []
    for fw, report in reports.items():
        if "error" in report:
            notes.append(f"{fw}: not measured: {report['error']}")
        for note in report.get("notes", []):
            notes.append(f"{fw}: {note}")
        for scenario, result in report.get("results", {}).items():
            if result["status"] != "ok":
                notes.append(f"{fw} {scenario}: {result['status']}: {result['reason']}")
    return notes


def legend(args: argparse.Namespace) -> list[str]:
    return [
        f"µs per request, best of {args.repeat * args.rounds} (median);"
        " in-process WSGI, no sockets.",
        f"Bars: flask/erlen ≥ {CORE_FLASK_BAR:g}x on the core scenarios, ≥ {EXTRA_FLASK_BAR:g}x on"
        f" template and session_read; erlen/falcon ≤ {FALCON_BAR:g}x on the core scenarios.",
    ]


def main_parent(args: argparse.Namespace) -> int:
    env_lines = environment_lines()
    versions = [f"{d} {v}" for d in DISTRIBUTIONS if (v := package_version(d)) is not None]
    if not args.json:
        print("\n".join(env_lines))
        print("packages: " + ", ".join(versions))
        print(f"timing: ~{args.min_time:g} s per repeat, {args.repeat} repeats", file=sys.stderr)
    reports = run_rounds(args)
    if args.json:
        print(
            json.dumps(
                {"environment": env_lines, "packages": versions, "reports": reports}, indent=2
            )
        )
        return 0
    rows = table_rows(reports, args)
    notes = footnotes(reports)
    print()
    print(plain_table(rows))
    print()
    print("\n".join(legend(args)))
    for note in notes:
        print(f"- {note}")
    os.makedirs(os.path.dirname(RESULTS_FILE), exist_ok=True)
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    with open(RESULTS_FILE, "w", encoding="utf-8") as f:
        f.write(f"# erlen benchmarks, {stamp}\n\n")
        f.write("".join(f"- {line}\n" for line in env_lines))
        f.write(f"- packages: {', '.join(versions)}\n\n")
        f.write(markdown_table(rows) + "\n\n")
        f.write("".join(f"{line}\n" for line in legend(args)) + "\n")
        f.write("".join(f"- {note}\n" for note in notes))
    print(f"\nwritten to {os.path.relpath(RESULTS_FILE)}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--frameworks", default=",".join(FRAMEWORKS), help="comma-separated, from %(default)s"
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(s.name for s in SCENARIOS),
        help="comma-separated, from %(default)s",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a rough pass: 0.02 s per repeat, 3 repeats"
    )
    parser.add_argument(
        "--min-time", type=float, default=None, help="seconds per repeat (default 0.2)"
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="repeats, the best is reported (default 5)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run all frameworks this many times, alternating (default 1)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--framework", help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)
    args.frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for fw in [args.framework] if args.framework else args.frameworks:
        if fw not in FRAMEWORKS:
            parser.error(f"unknown framework {fw!r}; choose from {', '.join(FRAMEWORKS)}")
    for scenario in args.scenarios:
        if scenario not in SCENARIOS_BY_NAME:
            parser.error(
                f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS_BY_NAME)}"
            )
    if args.min_time is None:
        args.min_time = 0.02 if args.quick else 0.2
    if args.repeat is None:
        args.repeat = 3 if args.quick else 5
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.framework:
        report = run_framework(args.framework, args.scenarios, args.min_time, args.repeat)
        print(json.dumps(report) if args.json else json.dumps(report, indent=2))
        return 0
    return main_parent(args)


if __name__ == "__main__":
    sys.exit(main())
