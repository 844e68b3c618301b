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

import collections.abc as cabc
import ctypes
import dataclasses
import html
import importlib
import json
import os
import re
import select
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import typing as t

from ._http11 import logger
from .reloader import Reloader
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


def error_app(text: str, what: str = "the app") -> WSGIApp:
    """A WSGI app that answers every request with a 500 page showing ``text``.

    ``text`` is a traceback; the page names the file and line to fix. HTML for
    browsers (``Accept: text/html``), plain text for everything else.
    """
    place = _locate(text)
    last = text.strip().splitlines()[-1] if text.strip() else "unknown error"
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
    _set_parent_death_signal(int(env.pop("ERLEN_SUPERVISOR_PID", str(os.getppid()))))
    if status_fd >= 0:
        os.set_inheritable(status_fd, False)
    eager = first if eager_loading is None else eager_loading
    failed = False
    try:
        app = wrap(load_app())
    except Exception:
        if eager:
            raise  # the traceback, exit status 1; the supervisor exits too
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
        os.write(status_fd, json.dumps(message).encode() + b"\n")
    try:
        server.serve_forever()
    finally:
        server.server_close()


# -- the supervisor ---------------------------------------------------------


@dataclasses.dataclass(eq=False)
class _Child:
    proc: subprocess.Popen[bytes]
    status: int | None  # read end of the status pipe
    stderr: int | None  # read end of its stderr until it serves
    group: bool  # leads its own process group
    tail: bytearray = dataclasses.field(default_factory=bytearray)
    buffer: bytes = b""
    ready: bool = False
    deadline: float | None = None  # when stopping: SIGKILL after this


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

    def _spawn(self) -> _Child:
        status_r, status_w = os.pipe()
        err_r, err_w = os.pipe()
        fd = self.sock.fileno()
        env = dict(
            os.environ,
            ERLEN_RUN_MAIN="true",
            WERKZEUG_RUN_MAIN="true",  # COMPAT: apps check it to run init once
            ERLEN_SERVER_FD=str(fd),
            ERLEN_STATUS_FD=str(status_w),
            ERLEN_STDERR_FD=str(self.stderr_fd),
            ERLEN_SUPERVISOR_PID=str(os.getpid()),
            ERLEN_RELOAD="1" if self.started else "0",
        )
        # COMPAT: on a terminal the child stays in our process group so that
        # pdb's input works and Ctrl-C reaches it; otherwise it leads its own
        # group and signals go to everything it started.
        try:
            interactive = sys.stdin is not None and sys.stdin.isatty()
        except (ValueError, OSError):
            interactive = False
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
        child = _Child(proc, status_r, err_r, group=not interactive)
        self.sel.register(status_r, selectors.EVENT_READ, (child, "status"))
        self.sel.register(err_r, selectors.EVENT_READ, (child, "stderr"))
        return child

    def _signal(self, child: _Child, signum: int) -> None:
        try:
            if child.group:
                os.killpg(child.proc.pid, signum)
            else:
                os.kill(child.proc.pid, signum)
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
        if not child.ready and b"\n" in child.buffer:
            line, _, child.buffer = child.buffer.partition(b"\n")
            try:
                message = json.loads(line)
            except ValueError:
                message = {}
            self._on_ready(child, message)

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
        try:
            code = child.proc.wait(5)
        except subprocess.TimeoutExpired:
            self._signal(child, signal.SIGKILL)
            code = child.proc.wait()
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
        _trace("spawn")
        self.pending = self._spawn()

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
                child.proc.wait()
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

    def _close_all(self) -> None:
        for key in list(self.sel.get_map().values()):
            child, which = key.data
            if child is not None:
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
