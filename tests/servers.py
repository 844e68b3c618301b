"""Real server processes for tests: free loopback ports, readiness, logs, and cleanup.

Every server started here binds 127.0.0.1, is waited on with a deadline, and is
stopped (SIGTERM, then SIGKILL) when the ``with`` block ends.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import tempfile
import time
import typing as t


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A server subprocess serving on ``127.0.0.1:port``; use as a context manager."""

    def __init__(
        self,
        args: list[str],
        port: int,
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        ready_path: str = "/",
        timeout: float = 20.0,
    ) -> None:
        self.args = args
        self.port = port
        self.env = env
        self.cwd = cwd
        self.ready_path = ready_path
        self.timeout = timeout
        self._log = tempfile.TemporaryFile()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=self.cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ready(self) -> None:
        """Poll until the server answers an HTTP request, or fail with its log."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                self.request("GET", self.ready_path, timeout=2)
                return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"server not ready after {self.timeout}s:\n{self.log()}")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request on a new connection: ``(status, headers, body)``."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self._log.close()


def wait_for(
    predicate: t.Callable[[], bool], timeout: float = 10.0, interval: float = 0.05
) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
