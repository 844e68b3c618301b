"""Reload latency and idle CPU of the development server with the reloader.

Generates a project whose app imports ``--modules`` modules (2,000), then for erlen
(``python app.py`` with the reloader, watchfiles and stat) and, when an
interpreter with Flask is found (``.venv-bench``), ``flask run --debug``:

* reload latency: time from saving ``app.py`` to the first response with the
  new content (a client polls every 5 ms), median of ``--saves`` saves;
* idle CPU: CPU time of the supervisor and its child over ``--idle`` seconds
  with nothing changing (from ``/proc/<pid>/stat``), in % of one core.

With ``--phases``, erlen writes timestamps of each reload to a file
(``ERLEN_RELOAD_TRACE``) and a second table splits the median reload into
detection, process start, imports, app load and readiness.

Linux only (``/proc``). Prints tables; nothing is asserted.

    .venv/bin/python benchmarks/bench_reload.py [--saves 10] [--idle 20] [--modules 2000]
"""

from __future__ import annotations

import argparse
import http.client
import os
import pathlib
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULES_PER_PACKAGE = 50

ERLEN_APP = """\
import os
import sys
import time


def _trace(event, when):
    if os.environ.get("ERLEN_RELOAD_TRACE"):
        with open(os.environ["ERLEN_RELOAD_TRACE"], "a") as f:
            f.write(f"{os.getpid()} {event} {when:.6f}\\n")


_trace("start", time.time())
import mods  # noqa: E402
from erlen import Erlen  # noqa: E402
from erlen.dev.run import run_dev_server  # noqa: E402

_trace("imported", time.time())

app = Erlen(__name__)
VERSION = "v0"


@app.route("/")
def index():
    return VERSION


if __name__ == "__main__":
    run_dev_server(
        lambda: app,
        port=int(sys.argv[1]),
        use_reloader=True,
        reloader_type=os.environ.get("BENCH_RELOADER", "auto"),
        # As if installed: erlen's own (checkout) files are not watched.
        exclude_patterns=[os.path.join(os.path.dirname(sys.modules["erlen"].__file__), "*")],
    )
"""

FLASK_APP = """\
import mods
from flask import Flask

app = Flask(__name__)
VERSION = "v0"


@app.route("/")
def index():
    return VERSION
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_project(base: pathlib.Path, count: int) -> None:
    """``mods/p*/m*.py``: ``count`` small modules, all imported by ``import mods``."""
    mods = base / "mods"
    mods.mkdir()
    names = []
    for p in range((count + MODULES_PER_PACKAGE - 1) // MODULES_PER_PACKAGE):
        pkg = mods / f"p{p}"
        pkg.mkdir()
        imports = []
        for m in range(min(MODULES_PER_PACKAGE, count - p * MODULES_PER_PACKAGE)):
            (pkg / f"m{m}.py").write_text(f"def f{m}(x):\n    return x + {m}\n")
            imports.append(f"from . import m{m}")
        (pkg / "__init__.py").write_text("\n".join(imports) + "\n")
        names.append(f"from . import p{p}")
    (mods / "__init__.py").write_text("\n".join(names) + "\n")


FAILED = [0]  # requests refused or cut off while polling


def get(port: int) -> str | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/")
        return conn.getresponse().read().decode()
    except (OSError, http.client.HTTPException):
        FAILED[0] += 1
        return None
    finally:
        conn.close()


def wait_for_body(port: int, body: str, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get(port) == body:
            return time.monotonic()
        time.sleep(0.005)
    return None


def session_cpu(sid: int) -> float:
    """CPU seconds (user + system) of every live process in session ``sid``."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / ticks


# The phases of a reload, from the trace events that end them.
PHASES = [
    ("detect", "detected"),  # the file watcher reports the save
    ("spawn", "spawn"),  # the supervisor starts (or forks) a child
    ("start", "start"),  # the interpreter reaches the app script
    ("imports", "imported"),  # the app's imports
    ("load", "loaded"),  # load_app()
    ("ready", "ready"),  # the server object is made; the child says so
    ("switch", "switched"),  # the supervisor reads it, stops the old child
]


def phases(trace: pathlib.Path, saves: list[tuple[float, float]]) -> dict[str, float]:
    """Median seconds of each phase over ``saves`` (``(saved, served)`` wall times)."""
    events: list[tuple[float, str]] = []
    if trace.exists():
        for line in trace.read_text().splitlines():
            _, event, when = line.split()
            events.append((float(when), event))
    events.sort()
    spans: dict[str, list[float]] = {name: [] for name, _ in PHASES}
    spans["respond"] = []
    for saved, served in saves:
        seen = {e: w for w, e in reversed(events) if saved <= w <= served}
        last = saved
        for name, event in PHASES:
            if event in seen:
                spans[name].append(seen[event] - last)
                last = seen[event]
        spans["respond"].append(served - last)
    return {k: statistics.median(v) for k, v in spans.items() if v}


def measure(
    name: str, args: list[str], env: dict[str, str], cwd: pathlib.Path, saves: int, idle: float
) -> dict[str, object]:
    port = int(args[-1]) if args[-1].isdigit() else int(args[args.index("--port") + 1])
    app = cwd / "app.py"
    trace = cwd / "trace.log"
    trace.unlink(missing_ok=True)
    env = dict(env, ERLEN_RELOAD_TRACE=str(trace))
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        started = time.monotonic()
        if wait_for_body(port, "v0", 60) is None:
            log.seek(0)
            raise RuntimeError(f"{name} did not start:\n{log.read().decode()}")
        startup = time.monotonic() - started
        time.sleep(2.0)  # let the watcher settle
        latencies = []
        walls = []
        FAILED[0] = 0
        for i in range(1, saves + 1):
            text = app.read_text().replace(f'VERSION = "v{i - 1}"', f'VERSION = "v{i}"')
            saved = time.monotonic()
            wall = time.time()
            app.write_text(text)
            done = wait_for_body(port, f"v{i}", 30)
            if done is None:
                log.seek(0)
                raise RuntimeError(f"{name} never served v{i}:\n{log.read().decode()[-3000:]}")
            latencies.append(done - saved)
            walls.append((wall, wall + done - saved))
            # A random gap, as between real saves: a fixed one would always
            # hit the same phase of a polling loop.
            time.sleep(random.uniform(1.0, 2.0))
        time.sleep(2.0)
        before = session_cpu(proc.pid)
        time.sleep(idle)
        cpu = (session_cpu(proc.pid) - before) / idle * 100
        return {
            "name": name,
            "startup": startup,
            "median": statistics.median(latencies),
            "max": max(latencies),
            "cpu": cpu,
            "failed": FAILED[0],
            "phases": phases(trace, walls),
        }
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def find_python(candidates: list[pathlib.Path], module: str) -> str | None:
    for python in candidates:
        if python.exists():
            ok = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True)
            if ok.returncode == 0:
                return str(python)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=10, help="saves per server (median)")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle CPU sampling")
    parser.add_argument("--modules", type=int, default=2000, help="modules the app imports")
    parser.add_argument("--no-flask", action="store_true", help="skip flask run --debug")
    parser.add_argument("--no-stat", action="store_true", help="skip erlen with the stat reloader")
    parser.add_argument("--phases", action="store_true", help="print where a reload's time goes")
    opts = parser.parse_args()
    # Stop the servers (the finally clauses) on SIGTERM too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if not os.path.isdir("/proc"):
        sys.exit("bench_reload.py needs Linux (/proc).")
    erlen_python = find_python(
        [ROOT / ".venv" / "bin" / "python", pathlib.Path(sys.executable)], "watchfiles"
    )
    flask_python = find_python(
        [ROOT / ".venv-bench" / "bin" / "python", pathlib.Path(sys.executable)], "flask"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    env.pop("ERLEN_RUN_MAIN", None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = pathlib.Path(tmp)
        make_project(base, opts.modules)
        runs: list[tuple[str, list[str], dict[str, str], str]] = []
        python = erlen_python or sys.executable
        for kind in ("watchfiles",) if opts.no_stat else ("watchfiles", "stat"):
            port = free_port()
            runs.append(
                (f"erlen app.py ({kind})", [python, "app.py", str(port)],
                 dict(env, BENCH_RELOADER=kind), ERLEN_APP)
            )  # fmt: skip
        if flask_python and not opts.no_flask:
            port = free_port()
            flask = [flask_python, "-m", "flask", "--app", "app", "run", "--debug"]
            runs.append(("flask run --debug", [*flask, "--port", str(port)], env, FLASK_APP))
        for name, args, run_env, source in runs:
            (base / "app.py").write_text(source)
            shutil.rmtree(base / "__pycache__", ignore_errors=True)
            print(f"measuring {name} ...", file=sys.stderr)
            rows.append(measure(name, args, run_env, base, opts.saves, opts.idle))
    print(f"\nReload with {opts.modules} modules imported; Python {sys.version.split()[0]}")
    print(
        f"{'server':<28} {'start s':>8} {'reload median s':>16} {'max s':>7}"
        f" {'failed req':>10} {'idle CPU %':>11}"
    )
    for row in rows:
        print(
            f"{row['name']:<28} {row['startup']:>8.2f} {row['median']:>16.3f}"
            f" {row['max']:>7.3f} {row['failed']:>10} {row['cpu']:>11.2f}"
        )
    if not flask_python:
        print("(flask not found: create .venv-bench to compare)")
    if opts.phases:
        names = [name for name, _ in PHASES] + ["respond"]
        print("\nMedian ms per phase of a reload (each ends with its trace event)")
        print(f"{'server':<28}" + "".join(f" {n:>8}" for n in names))
        for row in rows:
            spans = t.cast("dict[str, float]", row["phases"])
            cells = [f"{spans[n] * 1000:8.0f}" if n in spans else f"{'-':>8}" for n in names]
            print(f"{row['name']:<28} " + " ".join(cells))


if __name__ == "__main__":
    main()
