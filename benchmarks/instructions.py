"""CPU instructions per request, counted by ``perf``: a deterministic companion to run.py.

    python benchmarks/instructions.py              # erlen and falcon, the core scenarios
    python benchmarks/instructions.py --frameworks erlen,flask --scenarios hello,form
    python benchmarks/instructions.py --requests 50000

Wall-clock times move with the load of a shared machine; the number of
user-space instructions a request executes barely does, so a change of a few
hundred instructions on the hot path shows up here and nowhere else. Each
framework is run twice in a child process (``perf stat -e instructions:u``):
once making ``--requests`` requests and once making none, and the difference is
divided by the number of requests, so imports and setup cancel out. The
harness's own cost (a fresh environ and body per request, ~4k instructions) is
included for every framework alike.

Needs Linux ``perf`` with access to user-space counters
(``kernel.perf_event_paranoid`` <= 2). Results are printed, never asserted.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORE = ("hello", "path_json", "query", "form", "cookie", "route100")


def child(framework: str, scenario_name: str, requests: int) -> None:
    """Make ``requests`` requests of one scenario in this process (run under perf)."""
    sys.path.insert(0, HERE)
    if importlib.util.find_spec("erlen") is None:
        sys.path.insert(0, os.path.join(ROOT, "src"))
    from _harness import SCENARIOS_BY_NAME
    from _harness import build_environ
    from _harness import call_once
    from _harness import wsgi_loop

    bench = importlib.import_module(f"apps.{framework}_app").create_app()
    scenario = SCENARIOS_BY_NAME[scenario_name]
    environ = build_environ(scenario)
    call_once(bench.wsgi, environ, scenario.body)
    run = wsgi_loop(bench.wsgi, environ, scenario.body)
    run(200)  # warm caches and the specializer in both runs alike
    run(requests)


def count(framework: str, scenario: str, requests: int) -> int:
    """User-space instructions of one child run."""
    command = [
        "perf", "stat", "-x", ",", "-e", "instructions:u",
        sys.executable, os.path.abspath(__file__),
        "--child", framework, scenario, str(requests),
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{framework} {scenario}: {proc.stderr.strip()[-500:]}")
    for line in proc.stderr.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2].startswith("instructions"):
            if not fields[0].isdigit():
                raise SystemExit(f"perf could not count instructions: {line!r}")
            return int(fields[0])
    raise SystemExit(f"no instruction count in perf's output: {proc.stderr[-500:]!r}")


def per_request(framework: str, scenario: str, requests: int) -> int:
    return (count(framework, scenario, requests) - count(framework, scenario, 0)) // requests


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frameworks", default="erlen,falcon")
    parser.add_argument("--scenarios", default=",".join(CORE))
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "SCENARIO", "N"))
    args = parser.parse_args(argv)
    if args.child:
        framework, scenario, n = args.child
        child(framework, scenario, int(n))
        return
    if shutil.which("perf") is None:
        raise SystemExit("perf is not installed (Debian: apt install linux-perf).")
    frameworks = args.frameworks.split(",")
    scenarios = args.scenarios.split(",")
    header = "".join(f"{f:>12}" for f in frameworks)
    print(f"{'scenario':<13}{header}   (instructions per request)")
    for scenario in scenarios:
        counts = [per_request(f, scenario, args.requests) for f in frameworks]
        ratio = ""
        if len(counts) > 1:
            ratio = f"   {frameworks[0]}/{frameworks[1]} {counts[0] / counts[1]:.2f}x"
        print(f"{scenario:<13}" + "".join(f"{c:>12,}" for c in counts) + ratio, flush=True)


if __name__ == "__main__":
    main()
