"""The development server: an HTTP/1.1 WSGI server on the standard library.

``make_server`` builds a :class:`DevServer` that serves any WSGI callable,
single-threaded, one thread per connection, or from pre-forked worker
processes, over plain TCP or TLS. ``run_simple`` adds the startup banner and a
quiet Ctrl-C. With ``fd`` the server adopts a listening socket made by a
supervisor process instead of binding its own, so restarts refuse nothing.
Nothing here imports the rest of erlen.
"""

from __future__ import annotations

import collections.abc as cabc
import errno
import logging
import os
import select
import selectors
import signal
import socket
import ssl
import sys
import threading
import time
import typing as t

from ._body import FileWrapper
from ._http11 import SERVER_SOFTWARE
from ._http11 import Connection
from ._http11 import Settings
from ._http11 import logger
from ._tls import SSLContextArg
from ._tls import generate_adhoc_ssl_context
from ._tls import load_ssl_context
from ._tls import make_ssl_devcert
from ._tls import resolve_ssl_context

if t.TYPE_CHECKING:
    from ._http11 import WSGIApp

__all__ = [
    "AddressInUse",
    "DevServer",
    "bind_socket",
    "generate_adhoc_ssl_context",
    "get_interface_addresses",
    "load_ssl_context",
    "log_startup",
    "make_server",
    "make_ssl_devcert",
    "run_simple",
    "select_address_family",
    "startup_lines",
]


_LISTENER = object()
_WAKE = object()


class AddressInUse(OSError):
    """The port is taken by another program; the message says what to do."""


# -- addresses ------------------------------------------------------------


def _strip_brackets(host: str) -> str:
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def select_address_family(host: str, port: int) -> socket.AddressFamily:
    """Pick IPv4 or IPv6 for ``host``: literals decide, names are resolved."""
    host = _strip_brackets(host)
    if ":" in host:
        return socket.AF_INET6
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        return socket.AF_INET
    return infos[0][0] if infos else socket.AF_INET


def _format_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _lan_address(family: socket.AddressFamily) -> str | None:
    # Connecting a UDP socket sends nothing; it only asks the kernel which
    # local address would route to a public address.
    target = "2001:db8::1" if family == socket.AF_INET6 else "192.0.2.1"
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect((target, 9))
            address = t.cast(str, s.getsockname()[0])
    except OSError:
        return None
    return address.split("%", 1)[0]


def get_interface_addresses(host: str) -> list[str]:
    """The addresses a server bound to ``host`` is reachable at, for display.

    A wildcard host (``0.0.0.0`` or ``::``) listens everywhere: show loopback
    and the LAN address. Any other host is shown as given.
    """
    host = _strip_brackets(host)
    if host not in ("0.0.0.0", "::"):
        return [host]
    family = socket.AF_INET6 if host == "::" else socket.AF_INET
    addresses = ["::1" if host == "::" else "127.0.0.1"]
    lan = _lan_address(family)
    if lan and lan not in addresses:
        addresses.append(lan)
    return addresses


def _address_in_use_message(host: str, port: int) -> str:
    lines = [
        f"Address already in use: port {port} on {host} is in use by another program.",
        f"Either stop that program (find it with `lsof -i :{port}` or"
        f" `ss -ltnp | grep :{port}`), or use another port with `--port`"
        " (or `port=` in app.run()).",
    ]
    if sys.platform == "darwin" and port == 5000:
        lines.append(
            "On macOS, port 5000 is used by the AirPlay Receiver: turn it off in"
            " System Settings -> General -> AirDrop & Handoff, or use another port."
        )
    return "\n".join(lines)


def _has_input(sock: socket.socket) -> bool:
    # Whether bytes are waiting on the socket (a request on its way).
    if isinstance(sock, ssl.SSLSocket) and sock.pending() > 0:
        return True
    try:
        # select, not a non-blocking recv: the socket has a timeout, and
        # Python's recv would wait for it.
        if not select.select([sock], [], [], 0)[0]:
            return False
        if isinstance(sock, ssl.SSLSocket):
            return True  # encrypted bytes: a record is arriving
        return bool(sock.recv(1, socket.MSG_PEEK))  # b"" is the client closing
    except (InterruptedError, OSError, ValueError):
        return False


def bind_socket(host: str, port: int, backlog: int = 128) -> socket.socket:
    """Create a listening TCP socket on ``host:port``.

    A supervisor uses this to hold the socket itself and pass
    ``sock.fileno()`` to each serving child (``make_server(fd=...)``).

    :raises AddressInUse: when another program holds the port.
    """
    bare = _strip_brackets(host)
    family = select_address_family(bare, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name != "nt":
            # Windows' SO_REUSEADDR allows two servers on one port; elsewhere
            # it only skips TIME_WAIT after a restart.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((bare, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise AddressInUse(errno.EADDRINUSE, _address_in_use_message(bare, port)) from None
            if e.errno == errno.EACCES:
                raise PermissionError(
                    errno.EACCES,
                    f"Permission denied to listen on port {port} on {bare}: ports"
                    " below 1024 usually need administrator rights. Use a port"
                    " above 1024 with `--port` (or `port=`), e.g. 5000.",
                ) from None
            raise
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


# -- logging --------------------------------------------------------------

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_log_time_cache: list[t.Any] = [0, ""]


def _log_time() -> str:
    now = int(time.time())
    if _log_time_cache[0] != now:
        tm = time.localtime(now)
        _log_time_cache[0] = now
        _log_time_cache[1] = (
            f"{tm.tm_mday:02d}/{_MONTHS[tm.tm_mon - 1]}/{tm.tm_year}"
            f" {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"
        )
    return t.cast(str, _log_time_cache[1])


def _use_color() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _ensure_logging() -> None:
    """Give ``erlen.serving`` a stderr handler unless one is configured."""
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    current: logging.Logger | None = logger
    while current is not None:
        if any(h.level <= logging.INFO for h in current.handlers):
            return
        if not current.propagate:
            break
        current = current.parent
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)


def _color_for(code: int) -> str:
    if code >= 500:
        return "\x1b[1;35m"  # bold magenta
    if code == 404:
        return "\x1b[33m"  # yellow
    if code >= 400:
        return "\x1b[1;31m"  # bold red
    if code == 304:
        return "\x1b[36m"  # cyan
    if code >= 300:
        return "\x1b[32m"  # green
    return ""


def _make_access_logger(color: bool) -> cabc.Callable[[str, str, int], None]:
    def log_request(client: str, request_line: str, code: int) -> None:
        if not logger.isEnabledFor(logging.INFO):
            return
        line = f'"{request_line}" {code} -'
        if color and (start := _color_for(code)):
            line = f"{start}{line}\x1b[0m"
        logger.info("%s - - [%s] %s", client, _log_time(), line)

    return log_request


# -- the server -----------------------------------------------------------


class DevServer:
    """A development HTTP/1.1 server for one WSGI application.

    Made by :func:`make_server`. Call :meth:`serve_forever` (blocks),
    :meth:`shutdown` from another thread or a signal handler to stop it, and
    :meth:`server_close` to release the socket.
    """

    def __init__(
        self,
        host: str,
        port: int,
        app: WSGIApp,
        *,
        threaded: bool = False,
        processes: int = 1,
        ssl_context: SSLContextArg = None,
        fd: int | None = None,
        request_timeout: float = 30.0,
        keep_alive_timeout: float = 5.0,
        log_requests: bool = True,
    ) -> None:
        if threaded and processes > 1:
            raise ValueError("Cannot use threaded=True and processes > 1 together; choose one.")
        if processes < 1:
            raise ValueError(f"processes must be at least 1, not {processes!r}.")
        if processes > 1 and not hasattr(os, "fork"):
            raise ValueError(
                "processes > 1 needs os.fork(), which this platform lacks;"
                " use threaded=True instead."
            )
        if request_timeout <= 0 or keep_alive_timeout <= 0:
            raise ValueError("request_timeout and keep_alive_timeout must be > 0.")
        self.host = host
        self.app = app
        self.threaded = threaded
        self.processes = processes
        self.request_timeout = request_timeout
        self.keep_alive_timeout = keep_alive_timeout
        self.log_requests = log_requests
        if fd is not None:
            # Work on a duplicate: the caller (a supervisor) keeps its fd.
            self.socket = socket.socket(fileno=os.dup(fd))
        else:
            self.socket = bind_socket(host, port)
        try:
            self.ssl_context = resolve_ssl_context(ssl_context, _strip_brackets(host))
            self.socket.setblocking(False)
        except BaseException:
            self.socket.close()
            raise
        address = self.socket.getsockname()
        self.server_address: t.Any = address
        self.port: int = address[1] if isinstance(address, tuple) else 0
        self._stop = False
        self._running = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        self._serving_thread: threading.Thread | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._children: set[int] = set()
        self._threads: set[threading.Thread] = set()
        self._connections: set[Connection] = set()
        self._lock = threading.Lock()
        self._settings = self._make_settings()

    # -- public API --------------------------------------------------------

    @property
    def url_scheme(self) -> str:
        return "https" if self.ssl_context is not None else "http"

    def fileno(self) -> int:
        return self.socket.fileno()

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` is called (or KeyboardInterrupt)."""
        self._stopped.clear()
        self._serving_thread = threading.current_thread()
        self._running.set()
        _ensure_logging()
        try:
            if self.processes > 1:
                self._run_workers()
            else:
                self._serve_loop()
        finally:
            # Reset here, not at the start: a shutdown() that comes before
            # serve_forever() runs must still stop it.
            self._stop = False
            self._running.clear()
            self._stopped.set()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop :meth:`serve_forever`; thread-safe, waits at most ``timeout`` s."""
        self._stop = True
        self._wake()
        if self._running.is_set() and threading.current_thread() is not self._serving_thread:
            self._stopped.wait(timeout)

    def server_close(self) -> None:
        """Close the listening socket (and the internal wake-up pair)."""
        self.socket.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> DevServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server_close()

    # -- internals ---------------------------------------------------------

    def _make_settings(self) -> Settings:
        host = _strip_brackets(str(self.server_address[0]))
        base_environ: dict[str, t.Any] = {
            "SERVER_NAME": host,
            "SERVER_PORT": str(self.port),
            "SCRIPT_NAME": "",
            "SERVER_SOFTWARE": SERVER_SOFTWARE,
            "GATEWAY_INTERFACE": "CGI/1.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self.url_scheme,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": self.threaded,
            "wsgi.multiprocess": self.processes > 1,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
            "wsgi.file_wrapper": FileWrapper,
        }
        log = _make_access_logger(_use_color()) if self.log_requests else None
        return Settings(
            self.app,
            base_environ,
            self.request_timeout,
            self.keep_alive_timeout,
            log,
            self._is_stopping,
        )

    def _is_stopping(self) -> bool:
        return self._stop

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _accept(self) -> tuple[socket.socket, t.Any] | None:
        try:
            sock, address = self.socket.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return None  # another worker took it, or the client gave up
        except OSError as e:
            if e.errno in (errno.EMFILE, errno.ENFILE):
                logger.error("Too many open files; the connection was refused.")
                time.sleep(0.05)
                return None
            raise
        try:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(self.request_timeout)
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(
                    sock, server_side=True, do_handshake_on_connect=False
                )
        except OSError:
            sock.close()
            return None
        return sock, address

    def _connect(self, sock: socket.socket, address: t.Any) -> Connection | None:
        """Finish the TLS handshake (if any) and wrap the socket."""
        if isinstance(sock, ssl.SSLSocket):
            try:
                sock.do_handshake()
            except (OSError, ValueError) as e:
                # A bad or impatient client: no traceback, one debug line.
                logger.debug("TLS handshake with %s failed: %s", address, e)
                sock.close()
                return None
        return Connection(sock, address, self._settings)

    def _serve_loop(self) -> None:
        """Accept and serve in this process until told to stop."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.socket, selectors.EVENT_READ, _LISTENER)
            sel.register(self._wake_r, selectors.EVENT_READ, _WAKE)
            idle: dict[Connection, float] = {}
            parent = os.getppid() if self._is_child else None
            try:
                while not self._stop:
                    timeout = 1.0
                    if idle:
                        nearest = min(idle.values()) - time.monotonic()
                        timeout = max(min(timeout, nearest), 0.0)
                    for key, _ in sel.select(timeout):
                        data = key.data
                        if data is _LISTENER:
                            self._on_accept(sel, idle)
                        elif data is _WAKE:
                            self._drain_wake()
                        else:
                            self._on_readable(sel, idle, data)
                    if idle:
                        now = time.monotonic()
                        for conn, deadline in list(idle.items()):
                            if deadline <= now:
                                del idle[conn]
                                sel.unregister(conn.sock)
                                conn.expire()
                    if parent is not None and os.getppid() != parent:
                        break  # orphaned: the supervisor died
            finally:
                for conn in idle:
                    conn.close()
                self._stop_threads()

    _is_child = False

    def _on_accept(self, sel: selectors.BaseSelector, idle: dict[Connection, float]) -> None:
        accepted = self._accept()
        if accepted is None:
            return
        if self.threaded:
            thread = threading.Thread(target=self._serve_connection, args=accepted, daemon=True)
            with self._lock:
                self._threads.add(thread)
            thread.start()
        else:
            conn = self._connect(*accepted)
            if conn is None:
                return
            sel.register(conn.sock, selectors.EVENT_READ, conn)
            idle[conn] = time.monotonic() + self.request_timeout

    def _on_readable(
        self,
        sel: selectors.BaseSelector,
        idle: dict[Connection, float],
        conn: Connection,
    ) -> None:
        timeout = self.keep_alive_timeout
        keep = conn.handle_request(timeout, poll=True)
        while keep and not self._stop and not conn.head_deadline and conn.has_buffered():
            keep = conn.handle_request(timeout, poll=True)  # pipelined
        if keep and conn.head_deadline:
            idle[conn] = conn.head_deadline  # a partial head: wait for the rest
        elif keep and not self._stop:
            idle[conn] = time.monotonic() + timeout
        else:
            del idle[conn]
            sel.unregister(conn.sock)
            conn.close()

    def _serve_connection(self, sock: socket.socket, address: t.Any) -> None:
        conn = None
        try:
            conn = self._connect(sock, address)
            if conn is None:
                return
            with self._lock:
                self._connections.add(conn)
            # A connection accepted before the stop gets its request answered
            # (with Connection: close): a restart must not drop it.
            conn.serve()
        except Exception:
            logger.exception("Unexpected error while serving a connection.")
        finally:
            with self._lock:
                if conn is not None:
                    self._connections.discard(conn)
                self._threads.discard(threading.current_thread())
            if conn is not None:
                conn.close()

    def _stop_threads(self, timeout: float = 5.0) -> None:
        """Wake idle keep-alive threads and join all, for at most ``timeout``."""
        with self._lock:
            conns = list(self._connections)
            threads = list(self._threads)
        for conn in conns:
            # Only connections waiting between requests are cut short; one that
            # was just accepted, or whose next request is already arriving, is
            # answered first (no request is dropped by a reload).
            if conn.idle and not conn.fresh and not conn.buf and not _has_input(conn.sock):
                try:
                    conn.sock.shutdown(socket.SHUT_RD)
                except OSError:
                    pass
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))

    def _drain_wake(self) -> None:
        try:
            self._wake_r.recv(4096)
        except OSError:
            pass

    # -- pre-forked workers ------------------------------------------------

    def _run_workers(self) -> None:
        """Fork ``processes`` workers, keep them running, stop them all at the end."""
        in_main = threading.current_thread() is threading.main_thread()
        previous: dict[signal.Signals, t.Any] = {}
        if in_main:
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_parent_signal)
        try:
            for _ in range(self.processes):
                self._spawn_worker()
            while not self._stop:
                self._reap(respawn=True)
                try:
                    ready = select.select([self._wake_r], [], [], 0.2)[0]
                except InterruptedError:
                    continue
                if ready:
                    self._drain_wake()
        finally:
            self._stop_workers()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _on_parent_signal(self, signum: int, frame: object) -> None:
        self._stop = True
        self._wake()

    def _spawn_worker(self) -> None:
        pid = os.fork()
        if pid:
            self._children.add(pid)
            return
        # In the worker: never return into the parent's stack.
        code = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
            signal.signal(signal.SIGTERM, self._on_parent_signal)
            self._is_child = True
            self._children = set()
            self._wake_r.close()
            self._wake_w.close()
            self._wake_r, self._wake_w = socket.socketpair()
            self._stop = False
            self._serve_loop()
        except BaseException:
            logger.exception("A worker process failed.")
            code = 1
        finally:
            logging.shutdown()
            os._exit(code)

    def _reap(self, respawn: bool) -> None:
        for pid in list(self._children):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done:
                self._children.discard(pid)
                if respawn and not self._stop:
                    logger.error("Worker %d exited (status %d); starting a new one.", pid, status)
                    time.sleep(0.1)
                    self._spawn_worker()

    def _stop_workers(self, timeout: float = 5.0) -> None:
        for pid in self._children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while self._children and time.monotonic() < deadline:
            self._reap(respawn=False)
            if self._children:
                time.sleep(0.02)
        for pid in self._children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        self._children.clear()


def make_server(
    host: str,
    port: int,
    app: WSGIApp,
    threaded: bool = False,
    processes: int = 1,
    ssl_context: SSLContextArg = None,
    fd: int | None = None,
    request_timeout: float = 30.0,
    keep_alive_timeout: float = 5.0,
    log_requests: bool = True,
) -> DevServer:
    """Create a :class:`DevServer` for ``app``, bound and listening.

    :param threaded: one thread per connection.
    :param processes: pre-fork this many worker processes (POSIX only).
    :param ssl_context: an ``ssl.SSLContext``, ``(certfile, keyfile)`` or
        ``"adhoc"`` for a generated self-signed certificate.
    :param fd: adopt this inherited listening socket instead of binding.
    :param request_timeout: seconds a client may take to send a request head,
        and to stay silent mid-body or while a response is written.
    :param keep_alive_timeout: seconds an idle keep-alive connection is kept.
    :raises AddressInUse: when the port is taken.
    """
    return DevServer(
        host,
        port,
        app,
        threaded=threaded,
        processes=processes,
        ssl_context=ssl_context,
        fd=fd,
        request_timeout=request_timeout,
        keep_alive_timeout=keep_alive_timeout,
        log_requests=log_requests,
    )


def startup_lines(host: str, port: int, scheme: str = "http") -> list[str]:
    """The "Running on" lines for a server bound to ``host:port``."""
    bare = _strip_brackets(host)
    lines = []
    if bare in ("0.0.0.0", "::"):
        lines.append(f" * Running on all addresses ({bare})")
    for address in get_interface_addresses(bare):
        lines.append(f" * Running on {scheme}://{_format_host(address)}:{port}")
    return lines


def log_startup(server: DevServer) -> None:
    """Log the development-server warning, the URLs and how to quit."""
    _ensure_logging()
    warning = (
        "WARNING: This is a development server. Do not use it in a production"
        " deployment. Use a production WSGI server instead."
    )
    if _use_color():
        warning = f"\x1b[1;31m{warning}\x1b[0m"
    logger.info(warning)
    host = server.host
    if server.socket.family not in (socket.AF_INET, socket.AF_INET6):
        host = str(server.server_address)
    for line in startup_lines(host, server.port, server.url_scheme):
        logger.info(line)
    logger.info("Press CTRL+C to quit")


def run_simple(
    hostname: str,
    port: int,
    application: WSGIApp,
    threaded: bool = False,
    processes: int = 1,
    ssl_context: SSLContextArg = None,
    fd: int | None = None,
    *,
    request_timeout: float = 30.0,
    keep_alive_timeout: float = 5.0,
    log_requests: bool = True,
    show_banner: bool | None = None,
) -> None:
    """Serve ``application`` until Ctrl-C, printing the startup banner.

    ``show_banner`` defaults to True unless ``fd`` is given (a supervisor that
    passes its socket has printed the banner already). Exits with status 1
    and a clear message when the port is in use.
    """
    try:
        server = make_server(
            hostname,
            port,
            application,
            threaded=threaded,
            processes=processes,
            ssl_context=ssl_context,
            fd=fd,
            request_timeout=request_timeout,
            keep_alive_timeout=keep_alive_timeout,
            log_requests=log_requests,
        )
    except (AddressInUse, PermissionError) as e:
        print(e.strerror, file=sys.stderr)
        sys.exit(1)
    try:
        if show_banner if show_banner is not None else fd is None:
            log_startup(server)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
