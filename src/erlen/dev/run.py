"""The development server with the reloader: one entry point for ``app.run()`` and ``erlen run``.

With the reloader, the first process becomes a *supervisor*: it binds the port
once, watches the files and runs the app in a *serving child* (the same command
line again, with ``ERLEN_RUN_MAIN=true``) that adopts the listening socket. On a
change it starts a new child first and stops the old one only when the new one
serves, so a restart refuses no connection. A child that can't load the app
serves an error page instead of dying; when it dies anyway (a syntax error in
the ``python app.py`` script itself), the supervisor serves that page.
"""

from __future__ import annotations

import ast
import atexit
import collections.abc as cabc
import ctypes
import dataclasses
import html
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import re
import runpy
import select
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
import typing as t

from ._http11 import logger
from .reloader import Reloader
from .reloader import is_library
from .reloader import module_dirs
from .serving import AddressInUse
from .serving import DevServer
from .serving import bind_socket
from .serving import log_startup
from .serving import make_server
from .serving import run_simple

if t.TYPE_CHECKING:
    from ._http11 import WSGIApp
    from ._tls import SSLContextArg

__all__ = ["error_app", "is_running_from_reloader", "run_dev_server"]

_TAIL = 64 * 1024  # bytes of a child's early stderr kept for the error page
_STOP_TIMEOUT = 10.0  # seconds an old child gets to finish its requests


def _trace(event: str) -> None:
    """Append ``pid event time`` to ``$ERLEN_RELOAD_TRACE`` (benchmarks/bench_reload.py)."""
    path = os.environ.get("ERLEN_RELOAD_TRACE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {event} {time.time():.6f}\n")


def is_running_from_reloader() -> bool:
    """True in the serving child of the reloader (where the app runs).

    Use it to run start-up work once instead of in both processes.
    """
    return os.environ.get("ERLEN_RUN_MAIN") == "true"


# -- the error page ---------------------------------------------------------

_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def _locate(text: str) -> tuple[str, int] | None:
    """The last project file and line in a traceback: the place to fix."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lib = os.path.dirname(os.__file__)
    for name, line in reversed(_FRAME.findall(text)):
        if name.startswith("<") or name.startswith((here, lib)) or "-packages" in name:
            continue
        return name, int(line)
    return None


_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(?:: .*)?")


def _summary(text: str) -> str:
    # The exception line ("SyntaxError: invalid syntax"), the last one of a
    # chained traceback; advice printed after it is skipped.
    lines = [line for line in text.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if (
            not line[0].isspace()
            and _EXCEPTION_LINE.fullmatch(line)
            and (": " in line or line.endswith(("Error", "Exception")))
        ):
            if not line.startswith(("Fix ", "While ", "Traceback")):
                return line
    return lines[-1] if lines else "unknown error"


def error_app(text: str, what: str = "the app") -> WSGIApp:
    """A WSGI app that answers every request with a 500 page showing ``text``.

    ``text`` is a traceback; the page names the file and line to fix. HTML for
    browsers (``Accept: text/html``), plain text for everything else.
    """
    place = _locate(text)
    last = _summary(text)
    where = f"{place[0]}, line {place[1]}" if place else "the traceback below"
    head = f"{what} failed to load: {last}"
    advice = f"Fix {where} and save: the server restarts on the next change."

    def app(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> list[bytes]:
        if "text/html" in environ.get("HTTP_ACCEPT", ""):
            body = (
                "<!doctype html>\n<html><head><meta charset=utf-8>"
                f"<title>500 {html.escape(last)}</title></head><body>"
                f"<h1>Internal Server Error</h1><p><strong>{html.escape(head)}</strong></p>"
                f"<p>{html.escape(advice)}</p><pre>{html.escape(text)}</pre></body></html>\n"
            )
            ctype = "text/html; charset=utf-8"
        else:
            body = f"500 Internal Server Error\n{head}\n{advice}\n\n{text}\n"
            ctype = "text/plain; charset=utf-8"
        data = body.encode("utf-8", "replace")
        start_response(
            "500 INTERNAL SERVER ERROR",
            [
                ("Content-Type", ctype),
                ("Content-Length", str(len(data))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [data]

    return app


def _with_debugger(
    app: WSGIApp,
    use_debugger: bool,
    use_evalex: bool,
    pin_logging: bool = True,
    trusted_hosts: cabc.Sequence[str] | None = None,
) -> WSGIApp:
    """Wrap ``app`` in the interactive debugger when asked and available."""
    if not use_debugger:
        return app
    try:
        module = importlib.import_module("erlen.dev.debugger")
        debugged = module.DebuggedApplication
    except (ImportError, AttributeError):
        return app
    return t.cast(
        "WSGIApp",
        debugged(app, evalex=use_evalex, pin_logging=pin_logging, trusted_hosts=trusted_hosts),
    )


_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def _warn_exposed_console(host: str, port: int, use_debugger: bool, use_evalex: bool) -> None:
    # SECURITY: the console runs arbitrary Python; say plainly who can reach it.
    if not (use_debugger and use_evalex) or host in _LOOPBACK_HOSTS or host.startswith("127."):
        return
    print(
        f" * WARNING: the interactive debugger console is on and the server listens on"
        f" {host}:{port}: anyone who can reach this address and learns the PIN can run"
        " Python code on this machine. Bind to 127.0.0.1, or turn the console off"
        " (use_evalex=False / --no-debugger), unless you trust that network.",
        file=sys.stderr,
    )


# -- the entry point --------------------------------------------------------


def run_dev_server(
    load_app: cabc.Callable[[], WSGIApp],
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    use_reloader: bool = False,
    use_debugger: bool = False,
    use_evalex: bool = True,
    extra_files: cabc.Iterable[str] | None = None,
    exclude_patterns: cabc.Iterable[str] | None = None,
    reloader_interval: float = 1.0,
    reloader_type: str = "auto",
    threaded: bool = True,
    processes: int = 1,
    passthrough_errors: bool = False,
    ssl_context: SSLContextArg = None,
    eager_loading: bool | None = None,
    app_import_path: str | None = None,
    debugger_trusted_hosts: cabc.Sequence[str] | None = None,
) -> None:
    """Load the app from ``load_app`` and serve it until Ctrl-C.

    Without the reloader, an error from ``load_app`` raises at once. With it,
    this process supervises serving children (see the module docstring).
    ``eager_loading`` None loads eagerly on the first start (an error exits
    with status 1) and lazily on reloads (an error is served as a 500 page
    until the next change); True always fails at once, False never does.
    ``passthrough_errors`` is accepted for compatibility: the server always
    lets the app (and the debugger) handle errors.
    """
    what = f"'{app_import_path}'" if app_import_path else "The app"
    if os.environ.get("ERLEN_RUN_MAIN") == "true" and "ERLEN_SERVER_FD" in os.environ:
        _run_child(
            load_app,
            host=host,
            port=port,
            threaded=threaded,
            processes=processes,
            ssl_context=ssl_context,
            eager_loading=eager_loading,
            # The supervisor printed the PIN once; children share it.
            wrap=lambda app: _with_debugger(
                app, use_debugger, use_evalex, False, debugger_trusted_hosts
            ),
            what=what,
        )
        return
    if use_reloader and os.name == "nt":
        # The supervisor passes the socket and pipes by descriptor (POSIX).
        print(" * The reloader needs a POSIX system; serving without it.", file=sys.stderr)
        use_reloader = False
    _warn_exposed_console(host, port, use_debugger, use_evalex)
    if not use_reloader:
        app = _with_debugger(
            load_app(), use_debugger, use_evalex, trusted_hosts=debugger_trusted_hosts
        )
        run_simple(host, port, app, threaded=threaded, processes=processes, ssl_context=ssl_context)
        return
    reloader = Reloader(
        [os.getcwd(), *module_dirs()],
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
        interval=reloader_interval,
        backend=reloader_type,
    )
    try:
        sock = bind_socket(host, port)
    except (AddressInUse, PermissionError) as e:
        print(e.strerror, file=sys.stderr)
        raise SystemExit(1) from None
    if use_debugger:
        # One PIN for the supervisor's life, printed once, shared by every child.
        from .debugger import pin as debugger_pin

        debugger_pin.ensure_supervisor_pin()
        debugger_pin.log_pin(debugger_pin.resolve_pin(), use_evalex)
    supervisor = _Supervisor(sock, host, ssl_context, reloader, eager_loading, what)
    supervisor.app_modules = _app_modules(app_import_path)
    code = supervisor.run()
    if code:
        raise SystemExit(code)


# -- the serving child ------------------------------------------------------


def _set_parent_death_signal(parent: int) -> None:
    """Get SIGTERM when the supervisor dies, so no orphan keeps the port."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        else:
            if os.getppid() != parent:  # it died before prctl took effect
                os.kill(os.getpid(), signal.SIGTERM)
            return

    def watchdog() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watchdog, name="erlen-parent-watchdog", daemon=True).start()


def _run_child(
    load_app: cabc.Callable[[], WSGIApp],
    *,
    host: str,
    port: int,
    threaded: bool,
    processes: int,
    ssl_context: SSLContextArg,
    eager_loading: bool | None,
    wrap: cabc.Callable[[WSGIApp], WSGIApp],
    what: str,
) -> None:
    """Serve in the reloader's child on the supervisor's socket."""
    env = os.environ
    fd = int(env.pop("ERLEN_SERVER_FD"))
    status_fd = int(env.pop("ERLEN_STATUS_FD", "-1"))
    first = env.pop("ERLEN_RELOAD", "0") == "0"
    stderr_fd = int(env.pop("ERLEN_STDERR_FD", "-1"))
    report = env.pop("ERLEN_REPORT_MODULES", "") == "1"
    _set_parent_death_signal(int(env.pop("ERLEN_SUPERVISOR_PID", str(os.getppid()))))
    if status_fd >= 0:
        os.set_inheritable(status_fd, False)
    eager = first if eager_loading is None else eager_loading
    failed = False
    try:
        app = wrap(load_app())
    except Exception as e:
        if eager:
            raise  # the traceback, exit status 1; the supervisor exits too
        format_message = getattr(e, "format_message", None)
        if format_message is not None:
            # A discovery error from the CLI: its message already holds the
            # user's own traceback, without erlen's frames.
            text = format_message().replace(
                "Fix the error above and run the command again.",
                "Fix the error above and save: the server reloads on the next change.",
            )
            text = text.rstrip("\n") + "\n"

        else:
            text = traceback.format_exc()
        sys.stderr.write(text)
        app = error_app(text, what)
        failed = True
    _trace("loaded")
    if stderr_fd >= 0:
        # Until now stderr went through the supervisor, which shows it on the
        # error page if this process dies; from here on (and before the server
        # decides on colours) write to the terminal directly.
        sys.stderr.flush()
        os.dup2(stderr_fd, 2)
        os.close(stderr_fd)
    server = make_server(
        host, port, app, threaded=threaded, processes=processes, ssl_context=ssl_context, fd=fd
    )
    os.close(fd)

    def stop(signum: int, frame: object) -> None:
        server.shutdown()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    if status_fd >= 0:
        # The supervisor's cue that this child serves; the fd stays open so
        # that its end-of-file tells the supervisor this process is gone.
        message = {"roots": sorted(module_dirs()), "error": failed}
        _trace("ready")
        _write_all(status_fd, json.dumps(message).encode() + b"\n")
        if report:
            # What the zygote may preload for the next reload; a thread, as
            # the supervisor may take a while to read it all.
            threading.Thread(
                target=_report_modules, args=(status_fd,), name="erlen-modules", daemon=True
            ).start()
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _report_modules(fd: int) -> None:
    """Send the supervisor ``{"modules": [[name, file], ...]}`` in import order."""
    modules = [(n, getattr(m, "__file__", None)) for n, m in list(sys.modules.items())]
    try:
        _write_all(fd, json.dumps({"modules": modules}).encode() + b"\n")
    except OSError:
        pass  # the supervisor is gone or stopped reading


# -- the zygote -----------------------------------------------------------------
#
# Most of a reload is importing again what did not change: the standard
# library, installed packages and most of the project. The *zygote* is a
# process that imported those once ("preloaded"); on a change that touches none
# of its files it forks a serving child that only runs the app's entry again.
# It is started fresh (exec, not forked from the supervisor, which under
# ``python app.py`` has run the user's script), is single-threaded whenever it
# forks, and holds the listening socket only to hand it down: it never accepts.
# Correctness rests on one check in the supervisor: a child is forked only if
# no file the zygote loaded changed since the zygote started.

_ZYGOTE_CODE = "from erlen.dev.run import _zygote_main; _zygote_main()"
_NEVER_PRELOAD = frozenset({"__main__", "__mp_main__"})
_OPTIONS_WITH_VALUE = frozenset({"-W", "-X", "--check-hash-based-pycs"})
_FORK_TIMEOUT = 5.0  # seconds the supervisor waits for the zygote to fork
_ZYGOTE_FAILURES = 5  # zygotes that may fail before the supervisor stops starting them


@dataclasses.dataclass(frozen=True)
class _Entry:
    """How this process was started, to run it again in a forked child."""

    options: list[str]  # interpreter options, before the script or -m
    kind: str  # "script" or "module"
    target: str  # the script's absolute path or the module's name
    args: list[str]  # sys.argv[1:]
    path0: str | None  # what Python puts first on sys.path for it


def _entry() -> _Entry | None:
    """This process's command line, or None when it can't be re-run in-process."""
    argv = list(getattr(sys, "orig_argv", []))[1:]
    safe = bool(getattr(sys.flags, "safe_path", False))
    options: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _OPTIONS_WITH_VALUE:
            options += argv[i : i + 2]
            i += 2
            continue
        if arg.startswith("-m"):
            name, rest = (arg[2:], argv[i + 1 :]) if len(arg) > 2 else (argv[i + 1], argv[i + 2 :])
            return _Entry(options, "module", name, rest, None if safe else os.getcwd())
        if arg.startswith(("-W", "-X")):
            options.append(arg)
        elif arg in ("-", "--") or arg.startswith(("-c", "--")):
            return None
        elif arg.startswith("-"):
            if set(arg[1:]) & set("cmWX"):
                return None  # combined flags ending in an option with a value
            options.append(arg)
        else:
            path = os.path.abspath(arg)
            if not os.path.isfile(path):
                return None  # a directory or zip file with __main__.py
            path0 = None if safe else os.path.dirname(os.path.realpath(path))
            return _Entry(options, "script", path, argv[i + 1 :], path0)
        i += 1
    return None


def _app_modules(app_import_path: str | None) -> set[str]:
    """Module names that hold the app: reloaded in every child, never preloaded."""
    names = {"app", "wsgi"}
    if app_import_path:
        path = re.split(r":(?![\\/])", app_import_path, maxsplit=1)[0]
        if path.endswith(".py") or os.sep in path:
            base, name = os.path.split(os.path.splitext(path)[0])
            names.add(os.path.basename(base) if name == "__init__" else name)
        else:
            names.add(path)
    return names


def _static_imports(name: str, path: str) -> set[str]:
    """The modules ``name`` (source ``path``) names in its import statements."""
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return set()
    package = name if os.path.basename(path) == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _excluded(files: dict[str, str | None], seeds: set[str], volatile: set[str]) -> set[str]:
    """``seeds``, the modules of ``volatile`` files, and every module that
    imports one of those or lives in one of their packages (transitively)."""
    importers: dict[str, set[str]] = {}
    for name, path in files.items():
        deps = set()
        parent = name.rpartition(".")[0]
        if parent:
            deps.add(parent)
        if path and path.endswith(".py") and not is_library(path):
            deps |= _static_imports(name, path)
        for dep in deps:
            if dep in files and dep != name:
                importers.setdefault(dep, set()).add(name)
    excluded = set(_NEVER_PRELOAD) | seeds | {n for n, p in files.items() if p in volatile}
    stack = list(excluded)
    while stack:
        for importer in importers.get(stack.pop(), ()):
            if importer not in excluded:
                excluded.add(importer)
                stack.append(importer)
    return excluded


class _ImportWatch(importlib.abc.MetaPathFinder):
    """Notes imports of excluded modules while preloading (it never blocks one)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.hits: set[str] = set()

    def find_spec(
        self,
        fullname: str,
        path: cabc.Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in self.names:
            self.hits.add(fullname)
        return None


def _unforkable() -> str:
    """Why this process must not fork now ("" if it may): threads or sockets."""
    if threading.active_count() > 1:
        return "a thread"
    try:
        if len(os.listdir("/proc/self/task")) > 1:
            return "a thread"
    except OSError:
        pass
    return ""


def _sockets() -> set[str]:
    """The sockets this process has open (their inode names, Linux)."""
    found = set()
    try:
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:"):
                found.add(target)
    except OSError:
        pass
    return found


def _preload(spec: dict[str, t.Any]) -> dict[str, t.Any]:
    """Import the stable modules of the last good child: the zygote's ready report."""
    files: dict[str, str | None] = {str(n): f for n, f in spec["modules"]}
    seeds = set(spec["seeds"])
    seeds.update(n for n, f in files.items() if f is not None and f == spec["script"])
    excluded = _excluded(files, seeds, set(spec["volatile"]))
    watch = _ImportWatch(excluded)
    sockets = _sockets()
    tried: set[str] = set()
    sys.meta_path.insert(0, watch)
    try:
        for name in files:
            if name in excluded or name in sys.modules:
                continue
            tried.add(name)
            try:
                importlib.import_module(name)
            except BaseException:  # noqa: S110 - the child imports it again and sees the error
                pass
            hits, watch.hits = watch.hits, set()
            if hits:
                seeds.add(name)  # it drags in a module that changes: skip it next time
            # SECURITY: forked children must not share a thread's locks or a
            # connection (a database's, say) opened at import: give up on this
            # zygote; the next one skips that module.
            if _unforkable() or _sockets() - sockets:
                return {"unsafe": name}
    finally:
        sys.meta_path.remove(watch)
    loaded = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
    loaded.update(files[n] for n in tried)
    return {
        "ready": True,
        "loaded": sorted(f for f in loaded if isinstance(f, str)),
        "covers": sorted(set(sys.modules) | excluded),
        "skip": sorted(seeds - set(spec["seeds"])),
    }


def _send(sock: socket.socket, message: dict[str, t.Any]) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


def _zygote_main() -> None:
    """The zygote process: preload, report, then fork children on request."""
    env = os.environ
    ctl = socket.socket(fileno=int(env.pop("ERLEN_ZYGOTE_FD")))
    with os.fdopen(int(env.pop("ERLEN_ZYGOTE_SPEC")), "rb") as f:
        spec = json.loads(f.read())
    # Ctrl-C is for the supervisor and the children; the supervisor ends us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_parent_death_signal(int(env.pop("ERLEN_SUPERVISOR_PID")))
    if spec["path0"] is not None and sys.path and sys.path[0] == "":
        sys.path[0] = spec["path0"]
    sys.argv = [spec["target"], *spec["args"]]
    importlib.import_module("pkgutil")  # what runpy.run_path imports in each child
    report = _preload(spec)
    _send(ctl, report)
    if report.get("ready"):
        _zygote_loop(ctl, spec)
    sys.stdout.flush()
    sys.stderr.flush()
    # Not the atexit handlers of preloaded modules: they belong to the children.
    os._exit(0)


def _zygote_loop(ctl: socket.socket, spec: dict[str, t.Any]) -> None:
    """Fork a child per request; report exits; end once retired and childless."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    children: set[int] = set()
    fds: list[int] = []
    buffer = b""
    retired = False
    while not (retired and not children):
        ready = select.select([ctl.fileno(), wake_r], [], [])[0]
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if not pid:
                    break
                children.discard(pid)
                _send(ctl, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})
        if ctl.fileno() not in ready:
            continue
        data, new_fds, _, _ = socket.recv_fds(ctl, 65536, 8)
        fds += new_fds
        if not data:
            return  # the supervisor is gone; our children get SIGTERM with us
        buffer += data
        while b"\n" in buffer:
            line, _, buffer = buffer.partition(b"\n")
            message = json.loads(line)
            if message.get("retire"):
                retired = True
            elif "fork" in message and len(fds) >= 2:
                pipes, fds = fds[:2], fds[2:]
                why = _unforkable() or ("retired" if retired else "")
                if why:
                    for fd in pipes:
                        os.close(fd)
                    _send(ctl, {"forked": None, "why": why})
                    continue
                keep = (ctl.fileno(), wake_r, wake_w, *fds)
                pid = _zygote_fork(message["fork"], spec, pipes, keep)
                children.add(pid)
                _send(ctl, {"forked": pid})


def _zygote_fork(
    order: dict[str, t.Any], spec: dict[str, t.Any], pipes: list[int], close: tuple[int, ...]
) -> int:
    """Fork a serving child that runs the app's entry again; its pid."""
    status_w, err_w = pipes
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(status_w)
        os.close(err_w)
        return pid
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in close:
            os.close(fd)
        if order.get("group"):
            os.setpgid(0, 0)
        os.dup2(err_w, 2)
        os.close(err_w)
        os.environ.update(order["env"])
        os.environ["ERLEN_STATUS_FD"] = str(status_w)
        os.environ["ERLEN_SUPERVISOR_PID"] = str(os.getppid())  # the zygote
        sys.argv = [spec["target"], *spec["args"]]
        sys.orig_argv = list(spec["orig_argv"])
        if spec["kind"] == "module":
            runpy.run_module(spec["target"], run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(spec["target"], run_name="__main__")
        code = 0
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:
            print(e.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError, AttributeError):
                    pass
            os._exit(code)


# -- the supervisor ---------------------------------------------------------


@dataclasses.dataclass(eq=False)
class _Child:
    pid: int
    status: int | None  # read end of the status pipe
    stderr: int | None  # read end of its stderr until it serves
    group: bool  # leads its own process group
    proc: subprocess.Popen[bytes] | None = None  # started cold
    zygote: _Zygote | None = None  # or forked by this zygote
    code: int | None = None  # exit status, as the zygote reported it
    tail: bytearray = dataclasses.field(default_factory=bytearray)
    buffer: bytes = b""
    ready: bool = False
    deadline: float | None = None  # when stopping: SIGKILL after this


@dataclasses.dataclass(eq=False)
class _Zygote:
    proc: subprocess.Popen[bytes]
    sock: socket.socket  # JSON lines both ways; pipes for children go as SCM_RIGHTS
    buffer: bytes = b""
    ready: bool = False
    retired: bool = False
    closed: bool = False
    loaded: frozenset[str] = frozenset()  # the files of its modules
    covers: frozenset[str] = frozenset()  # module names loaded or left out on purpose
    dirty: set[str] = dataclasses.field(default_factory=set)  # changed since it started
    children: dict[int, _Child] = dataclasses.field(default_factory=dict)
    forked: list[int | None] = dataclasses.field(default_factory=list)  # fork replies


class _Supervisor:
    """Holds the socket, watches files, runs and replaces serving children."""

    def __init__(
        self,
        sock: socket.socket,
        host: str,
        ssl_context: SSLContextArg,
        reloader: Reloader,
        eager_loading: bool | None,
        what: str,
    ) -> None:
        self.sock = sock
        self.reloader = reloader
        self.eager_loading = eager_loading
        self.what = what
        self.current: _Child | None = None
        self.pending: _Child | None = None
        self.stopping: list[_Child] = []
        self.started = False  # a child has served once
        self.exit_code: int | None = None
        self.sel = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        self.changes: set[str] = set()
        self.lock = threading.Lock()
        self.stderr_fd = os.dup(2)
        self.error_text = ""
        self.fallback: DevServer = make_server(
            host,
            0,
            self._error_page,
            threaded=True,
            ssl_context=ssl_context,
            fd=sock.fileno(),
        )
        self.fallback_thread: threading.Thread | None = None
        try:
            self.interactive = sys.stdin is not None and sys.stdin.isatty()
        except (ValueError, OSError):
            self.interactive = False
        # The zygote (see above): Linux (no watchdog thread), a re-runnable entry.
        enabled = os.environ.get("ERLEN_RELOADER_ZYGOTE", "1").lower() not in ("0", "false", "no")
        linux = sys.platform.startswith("linux") and hasattr(os, "fork")
        self.entry = _entry() if enabled and linux else None
        self.app_modules: set[str] = set()
        self.zygote: _Zygote | None = None  # ready to fork
        self.starting: _Zygote | None = None  # preloading, to replace it
        self.zygotes: list[_Zygote] = []  # every live one, retired ones included
        self.zygote_failures = 0
        self.modules: list[tuple[str, str | None]] = []  # the current child's
        self.volatile: set[str] = set()  # files changed since the start
        self.skip: set[str] = set()  # modules never to preload again

    # -- plumbing ------------------------------------------------------------

    def _wake(self) -> None:
        try:
            os.write(self.wake_w, b"x")
        except OSError:
            pass  # full: a wake-up is pending anyway

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.exit_code is None:
            self.exit_code = 0
        self._wake()

    def _watch(self) -> None:
        for batch in self.reloader.changes():
            _trace("detected")
            with self.lock:
                self.changes |= batch
            self._wake()

    def _error_page(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> cabc.Iterable[bytes]:
        return error_app(self.error_text, self.what)(environ, start_response)

    # -- children ------------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        return {
            "ERLEN_SERVER_FD": str(self.sock.fileno()),
            "ERLEN_STDERR_FD": str(self.stderr_fd),
            "ERLEN_RELOAD": "1" if self.started else "0",
            "ERLEN_REPORT_MODULES": "1" if self.entry is not None else "0",
        }

    def _spawn(self) -> _Child:
        status_r, status_w = os.pipe()
        err_r, err_w = os.pipe()
        fd = self.sock.fileno()
        env = dict(
            os.environ,
            ERLEN_RUN_MAIN="true",
            WERKZEUG_RUN_MAIN="true",  # COMPAT: apps check it to run init once
            ERLEN_STATUS_FD=str(status_w),
            ERLEN_SUPERVISOR_PID=str(os.getpid()),
            **self._child_env(),
        )
        # COMPAT: on a terminal the child stays in our process group so that
        # pdb's input works and Ctrl-C reaches it; otherwise it leads its own
        # group and signals go to everything it started.
        interactive = self.interactive
        try:
            proc = subprocess.Popen(
                _child_argv(),
                env=env,
                pass_fds=(fd, status_w, self.stderr_fd),
                stderr=err_w,
                process_group=None if interactive else 0,
            )
        finally:
            os.close(status_w)
            os.close(err_w)
        child = _Child(proc.pid, status_r, err_r, group=not interactive, proc=proc)
        self.sel.register(status_r, selectors.EVENT_READ, (child, "status"))
        self.sel.register(err_r, selectors.EVENT_READ, (child, "stderr"))
        return child

    def _fork(self, zygote: _Zygote) -> _Child | None:
        """A child forked by ``zygote`` (None if it can't: start one cold)."""
        status_r, status_w = os.pipe()
        err_r, err_w = os.pipe()
        order = {"fork": {"env": self._child_env(), "group": not self.interactive}}
        try:
            line = json.dumps(order).encode() + b"\n"
            socket.send_fds(zygote.sock, [line], [status_w, err_w])
        except OSError:
            pass
        finally:
            os.close(status_w)
            os.close(err_w)
        self._zygote_until(zygote, lambda: bool(zygote.forked), _FORK_TIMEOUT)
        pid = zygote.forked.pop(0) if zygote.forked else None
        if pid is None:
            os.close(status_r)
            os.close(err_r)
            self._retire(zygote)
            return None
        child = _Child(pid, status_r, err_r, group=not self.interactive, zygote=zygote)
        zygote.children[pid] = child
        self.sel.register(status_r, selectors.EVENT_READ, (child, "status"))
        self.sel.register(err_r, selectors.EVENT_READ, (child, "stderr"))
        return child

    def _wait(self, child: _Child, timeout: float) -> int | None:
        """``child``'s exit status, waiting up to ``timeout`` s (None: still running)."""
        if child.proc is not None:
            try:
                return child.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        zygote = child.zygote
        if child.code is None and zygote is not None:
            self._zygote_until(zygote, lambda: child.code is not None, timeout)
        return child.code

    # -- zygotes ---------------------------------------------------------------

    def _start_zygote(self) -> None:
        """Start a zygote that preloads the current child's stable modules."""
        entry = self.entry
        if entry is None or self.zygote_failures >= _ZYGOTE_FAILURES:
            return
        spec = {
            "kind": entry.kind,
            "target": entry.target,
            "args": entry.args,
            "orig_argv": list(getattr(sys, "orig_argv", [])),
            "path0": entry.path0,
            "script": entry.target if entry.kind == "script" else None,
            "modules": self.modules,
            "volatile": sorted(self.volatile),
            "seeds": sorted(self.app_modules | self.skip),
        }
        mine, theirs = socket.socketpair()
        with tempfile.TemporaryFile() as f:
            f.write(json.dumps(spec).encode())
            f.flush()
            f.seek(0)
            env = dict(
                os.environ,
                ERLEN_RUN_MAIN="true",
                WERKZEUG_RUN_MAIN="true",
                ERLEN_ZYGOTE_FD=str(theirs.fileno()),
                ERLEN_ZYGOTE_SPEC=str(f.fileno()),
                ERLEN_SUPERVISOR_PID=str(os.getpid()),
            )
            fds = (self.sock.fileno(), self.stderr_fd, theirs.fileno(), f.fileno())
            try:
                proc = subprocess.Popen(
                    [sys.executable, *entry.options, "-c", _ZYGOTE_CODE],
                    env=env,
                    pass_fds=fds,
                    process_group=None if self.interactive else 0,
                )
            except OSError:
                mine.close()
                self.zygote_failures = _ZYGOTE_FAILURES
                return
            finally:
                theirs.close()
        # Non-blocking: a wait for one child's exit may have read what the
        # selector last reported as readable.
        mine.setblocking(False)
        zygote = _Zygote(proc, mine)
        self.zygotes.append(zygote)
        self.starting = zygote
        self.sel.register(mine, selectors.EVENT_READ, (zygote, "zygote"))

    def _on_modules(self, child: _Child, modules: t.Any) -> None:
        """The current child's modules: start a zygote if ours lacks some."""
        if child is not self.current or not isinstance(modules, list) or self.entry is None:
            return
        self.modules = [(str(m[0]), m[1] if isinstance(m[1], str) else None) for m in modules]
        if self.starting is not None:
            return
        zygote = self.zygote
        wanted = {n for n, f in self.modules if f not in self.volatile}
        if zygote is None or not wanted <= zygote.covers:
            self._start_zygote()

    def _retire(self, zygote: _Zygote) -> None:
        """Fork no more from ``zygote``; it exits once its children have."""
        if zygote is self.zygote:
            self.zygote = None
        if zygote is self.starting:
            self.starting = None
        if not zygote.retired and not zygote.closed:
            zygote.retired = True
            try:
                _send(zygote.sock, {"retire": True})
            except OSError:
                pass

    def _zygote_until(self, zygote: _Zygote, done: cabc.Callable[[], bool], timeout: float) -> None:
        """Handle ``zygote``'s messages until ``done()``, it exits, or ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not done() and not zygote.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([zygote.sock], [], [], remaining)[0]:
                return
            self._on_zygote(zygote)

    def _on_zygote(self, zygote: _Zygote) -> None:
        try:
            data = zygote.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._zygote_gone(zygote)
            return
        zygote.buffer += data
        while b"\n" in zygote.buffer:
            line, _, zygote.buffer = zygote.buffer.partition(b"\n")
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "forked" in message:
                zygote.forked.append(message["forked"])
            elif "exited" in message:
                child = zygote.children.pop(message["exited"], None)
                if child is not None:
                    child.code = int(message["code"])
            elif "unsafe" in message:
                self.skip.add(str(message["unsafe"]))
            elif message.get("ready"):
                self._zygote_ready(zygote, message)

    def _zygote_ready(self, zygote: _Zygote, message: dict[str, t.Any]) -> None:
        zygote.ready = True
        zygote.loaded = frozenset(message["loaded"])
        zygote.covers = frozenset(message["covers"])
        self.skip.update(message["skip"])
        if zygote is not self.starting:
            return
        self.starting = None
        if zygote.loaded & zygote.dirty:
            self._retire(zygote)  # it may have loaded a file from before its change
            return
        if self.zygote is not None:
            self._retire(self.zygote)
        self.zygote = zygote

    def _zygote_gone(self, zygote: _Zygote) -> None:
        if not zygote.closed:
            zygote.closed = True
            self.sel.unregister(zygote.sock)
            zygote.sock.close()
        try:
            code = zygote.proc.wait(5)
        except subprocess.TimeoutExpired:
            zygote.proc.kill()
            code = zygote.proc.wait()
        for child in zygote.children.values():
            if child.code is None:
                child.code = -1  # unknown: it gets SIGTERM with its zygote
        zygote.children.clear()
        if zygote in self.zygotes:
            self.zygotes.remove(zygote)
        if not zygote.retired:
            self.zygote_failures += 1
            if code:
                logger.info(" * The reloader's zygote exited (status %d).", code)
            self._retire(zygote)
            if self.exit_code is None and self.current is not None and self.modules:
                self._start_zygote()

    def _stop_zygotes(self) -> None:
        for zygote in list(self.zygotes):
            zygote.retired = True
            try:
                zygote.proc.terminate()
                zygote.proc.wait(2)
            except subprocess.TimeoutExpired:
                zygote.proc.kill()
                zygote.proc.wait()
            except OSError:
                pass
            if not zygote.closed:
                zygote.closed = True
                self.sel.unregister(zygote.sock)
                zygote.sock.close()
        self.zygotes.clear()
        self.zygote = self.starting = None

    def _signal(self, child: _Child, signum: int) -> None:
        try:
            if child.group:
                os.killpg(child.pid, signum)
            else:
                os.kill(child.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def _stop_child(self, child: _Child | None) -> None:
        """Ask ``child`` to finish its requests and exit (SIGKILL if it won't)."""
        if child is None or child in self.stopping:
            return
        self._signal(child, signal.SIGTERM)
        child.deadline = time.monotonic() + _STOP_TIMEOUT
        if child.status is not None:
            self.stopping.append(child)

    def _close(self, child: _Child, which: str) -> None:
        fd = child.status if which == "status" else child.stderr
        if fd is not None:
            self.sel.unregister(fd)
            os.close(fd)
        if which == "status":
            child.status = None
        else:
            child.stderr = None

    def _on_stderr(self, child: _Child) -> None:
        assert child.stderr is not None
        data = os.read(child.stderr, 65536)
        if not data:
            self._close(child, "stderr")
            return
        try:
            os.write(self.stderr_fd, data)
        except OSError:
            pass
        child.tail += data
        del child.tail[:-_TAIL]

    def _on_status(self, child: _Child) -> None:
        assert child.status is not None
        data = os.read(child.status, 65536)
        if not data:
            self._close(child, "status")
            self._on_exit(child)
            return
        child.buffer += data
        while b"\n" in child.buffer:
            line, _, child.buffer = child.buffer.partition(b"\n")
            try:
                message = json.loads(line)
            except ValueError:
                message = {}
            if not isinstance(message, dict):
                message = {}
            if not child.ready:
                self._on_ready(child, message)
            elif "modules" in message:
                self._on_modules(child, message["modules"])

    def _on_ready(self, child: _Child, message: dict[str, t.Any]) -> None:
        child.ready = True
        if child is not self.pending:
            return  # already replaced
        _trace("switched")
        self.started = True
        self.pending = None
        self._stop_child(self.current)
        self.current = child
        self._stop_fallback()
        roots = message.get("roots")
        if isinstance(roots, list):
            self.reloader.add_roots(str(r) for r in roots)

    def _on_exit(self, child: _Child) -> None:
        code = self._wait(child, 5)
        if code is None:
            self._signal(child, signal.SIGKILL)
            code = self._wait(child, 5)
            code = -signal.SIGKILL if code is None else code
        if child.stderr is not None:
            # Dead: what it wrote is in the pipe; read it all (bounded).
            deadline = time.monotonic() + 1.0
            while child.stderr is not None and time.monotonic() < deadline:
                ready = select.select([child.stderr], [], [], 0.1)[0]
                if ready:
                    self._on_stderr(child)
            if child.stderr is not None:
                self._close(child, "stderr")
        if child in self.stopping:
            self.stopping.remove(child)
            return
        if self.exit_code is not None:
            return
        text = "" if child.ready else child.tail.decode("utf-8", "replace")
        if child is self.pending:
            self.pending = None
            eager = not self.started if self.eager_loading is None else self.eager_loading
            if eager:
                logger.error(" * The app failed to load (exit status %d); stopping.", code)
                self.exit_code = 1
                return
            place = _locate(text)
            where = f" ({place[0]}, line {place[1]})" if place else ""
            logger.error(
                " * The app failed to load%s; serving the error page until the next change.",
                where,
            )
            text = text or (
                f"The server process exited with status {code} before serving.\n"
                "Its output in the terminal shows why; save a file to try again."
            )
        elif child is self.current:
            self.current = None
            text = text or (
                f"The server process exited with status {code} while serving.\n"
                "Its output above shows why; save a file to start it again."
            )
            logger.error(" * The server process exited (status %d); serving an error page.", code)
        else:
            return
        self.error_text = text
        self._stop_child(self.current)
        self.current = None
        self._start_fallback()

    # -- the fallback server -------------------------------------------------

    def _start_fallback(self) -> None:
        if self.fallback_thread is None:
            self.fallback_thread = threading.Thread(
                target=self.fallback.serve_forever, name="erlen-error-page", daemon=True
            )
            self.fallback_thread.start()

    def _stop_fallback(self) -> None:
        if self.fallback_thread is not None:
            self.fallback.shutdown()
            self.fallback_thread.join(_STOP_TIMEOUT)
            self.fallback_thread = None

    # -- the loop ------------------------------------------------------------

    def _on_changes(self) -> None:
        with self.lock:
            changed, self.changes = sorted(self.changes), set()
        if not changed or self.exit_code is not None:
            return
        for path in changed[:3]:
            logger.info(" * Detected change in %r, reloading", path)
        if len(changed) > 3:
            logger.info(" * ... and %d more", len(changed) - 3)
        self._stop_child(self.pending)
        self.volatile.update(changed)
        for each in self.zygotes:
            each.dirty.update(changed)
        zygote = self.zygote
        if zygote is not None and zygote.loaded & zygote.dirty:
            self._retire(zygote)  # a preloaded module changed: start cold
            zygote = None
        _trace("spawn")
        child = None
        # PERF: a fork of the zygote skips the interpreter start and every
        # unchanged import (1.2 s -> 0.15 s with 2,000 modules); only safe for
        # .py files it never loaded (other files may be read at import time).
        if zygote is not None and all(path.endswith(".py") for path in changed):
            child = self._fork(zygote)
        self.pending = child or self._spawn()

    def _banner(self) -> None:
        log_startup(self.fallback)
        via = self.reloader.backend
        logger.info(" * Restarting with %s", via)
        if self.reloader.reason:
            logger.info(" * Polling every %gs: %s", self.reloader.interval, self.reloader.reason)
        count = len(self.reloader.scan()[1])
        roots = ", ".join(self.reloader.roots)
        logger.info(" * Watching %d files under %s (via %s)", count, roots, via)

    def run(self) -> int:
        """Supervise until a signal (0) or an eager-loading failure (1)."""
        in_main = threading.current_thread() is threading.main_thread()
        previous: dict[int, t.Any] = {}
        if in_main:
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, self._on_signal)
        self.sel.register(self.wake_r, selectors.EVENT_READ, (None, "wake"))
        watcher = threading.Thread(target=self._watch, name="erlen-reloader", daemon=True)
        try:
            self._banner()
            watcher.start()
            self.pending = self._spawn()
            while self.exit_code is None:
                self._step()
            for child in (self.pending, self.current):
                self._stop_child(child)
            self._stop_fallback()
            while self.stopping:
                self._step()
        finally:
            self.reloader.stop()
            for child in list(self.stopping):
                self._signal(child, signal.SIGKILL)
                self._wait(child, 5)
            self._stop_zygotes()
            for restored, handler in previous.items():
                signal.signal(restored, handler)
            if watcher.is_alive():
                watcher.join(2.0)
            self._close_all()
        return self.exit_code or 0

    def _step(self) -> None:
        timeout = None
        if self.stopping:
            now = time.monotonic()
            for child in self.stopping:
                if child.deadline is not None and child.deadline <= now:
                    self._signal(child, signal.SIGKILL)
                    child.deadline = None
            deadlines = [c.deadline for c in self.stopping if c.deadline is not None]
            timeout = max(min(deadlines) - now, 0.0) if deadlines else 0.5
        for key, _ in self.sel.select(timeout):
            child, which = key.data
            if which == "wake":
                try:
                    os.read(self.wake_r, 4096)
                except BlockingIOError:
                    pass
                self._on_changes()
            elif which == "stderr" and child.stderr is not None:
                self._on_stderr(child)
            elif which == "status" and child.status is not None:
                self._on_status(child)
            elif which == "zygote" and not child.closed:
                self._on_zygote(child)

    def _close_all(self) -> None:
        for key in list(self.sel.get_map().values()):
            child, which = key.data
            if child is not None and which != "zygote":
                self._close(child, which)
        self.sel.close()
        os.close(self.wake_r)
        os.close(self.wake_w)
        self.fallback.server_close()
        self.sock.close()
        os.close(self.stderr_fd)


def _child_argv() -> list[str]:
    """The command that started this process, to run it again as a child.

    ``sys.orig_argv`` keeps interpreter options and ``-m``/``-c``, so
    ``python app.py``, ``python -m pkg`` and console scripts all re-run.
    """
    args = list(getattr(sys, "orig_argv", []))[1:]
    if not args:  # COMPAT: an embedded interpreter without orig_argv
        args = list(sys.argv)
    return [sys.executable, *args]
