"""The blog under real gunicorn with two sync workers: a session made by one worker is
read by the other, because sessions are signed cookies with the shared SECRET_KEY."""

from __future__ import annotations

import http.client
import http.cookies
import re
import secrets
import socket
import subprocess
import sys
import typing as t
import urllib.parse

import pytest

from tests.examples.test_blog import BLOG_DIR
from tests.servers import ServerProcess
from tests.servers import free_port

pytestmark = pytest.mark.dev_server

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.x response from ``sock`` (the sync worker closes after it)."""
    response = http.client.HTTPResponse(sock)
    try:
        response.begin()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        response.close()


def get_on_both_workers(
    server: ServerProcess, headers: dict[str, str]
) -> list[tuple[int, dict[str, str], bytes]]:
    """``GET /`` twice, served by two different sync workers.

    A connection that has sent no request yet keeps the worker that accepted it
    blocked reading, so a request on a second connection meanwhile must be served
    by the other worker; then the first connection sends its request.
    """
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as held:
        first = server.request("GET", "/", headers=headers, timeout=15)
        lines = [f"{name}: {value}" for name, value in headers.items()]
        request = ["GET / HTTP/1.1", "Host: 127.0.0.1", *lines, "Connection: close", "", ""]
        held.sendall("\r\n".join(request).encode("latin-1"))
        second = read_response(held)
    assert first[0] == second[0] == 200
    assert first[1]["x-blog-worker"] != second[1]["x-blog-worker"], "one worker served both"
    return [first, second]


def test_session_is_shared_by_two_gunicorn_workers(
    tmp_path: t.Any, subprocess_env: dict[str, str]
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    # Both workers read the same instance config: the secret, cheap hashes for a fast
    # test, and the worker pid on every response so the test sees who served it.
    (instance / "config.py").write_text(
        f"SECRET_KEY = {secrets.token_hex(16)!r}\n"
        "PASSWORD_HASH_METHOD = 'pbkdf2:sha256:1000'\n"
        "EXPOSE_WORKER_PID = True\n"
    )
    env = dict(subprocess_env, BLOG_INSTANCE_PATH=str(instance))
    init = subprocess.run(
        [sys.executable, "-m", "blog", "init-db"],
        cwd=BLOG_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert init.returncode == 0, init.stderr
    assert (instance / "blog.sqlite").is_file()

    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    args += ["--chdir", BLOG_DIR, "blog:create_app()"]
    with ServerProcess(args, port, env=env, cwd=str(tmp_path)) as server:
        credentials = urllib.parse.urlencode({"username": "erin", "password": "s3cret"})
        status, headers, _ = server.request("POST", "/auth/register", credentials.encode(), FORM)
        assert status == 302, server.log()
        assert headers["location"].endswith("/auth/login")

        status, headers, _ = server.request("POST", "/auth/login", credentials.encode(), FORM)
        assert status == 302, server.log()
        jar = http.cookies.SimpleCookie(headers["set-cookie"])
        assert "session" in jar
        cookie = {"Cookie": f"session={jar['session'].value}"}

        pids: set[str] = set()
        for _ in range(20):
            # ServerProcess.request opens a new connection every time.
            status, headers, body = server.request("GET", "/", headers=cookie)
            assert status == 200, server.log()
            assert b'<span class="user">erin</span>' in body
            assert re.fullmatch(r"\d+", headers["x-blog-worker"])
            pids.add(headers["x-blog-worker"])

        # Two requests that are certain to land on different workers.
        for _, headers, body in get_on_both_workers(server, cookie):
            assert b'<span class="user">erin</span>' in body
            pids.add(headers["x-blog-worker"])
        assert len(pids) == 2, pids

        # A write through one worker shows up through the other (one SQLite file).
        body_form = urllib.parse.urlencode({"title": "Across workers", "body": "hi"})
        status, _, _ = server.request("POST", "/create", body_form.encode(), {**FORM, **cookie})
        assert status == 302
        responses = get_on_both_workers(server, cookie)
        assert {headers["x-blog-worker"] for _, headers, _ in responses} == pids
        for _, _, body in responses:
            assert b"<h2>Across workers</h2>" in body

        # Without the cookie nobody is logged in, on any worker.
        status, _, body = server.request("GET", "/")
        assert status == 200
        assert b'<span class="user">' not in body
        assert b'href="/auth/login"' in body
