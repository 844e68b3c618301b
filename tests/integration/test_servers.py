"""The app under real servers: gunicorn's sync worker and ``python hello.py``."""

from __future__ import annotations

import os
import sys
import typing as t
import urllib.parse

import pytest

from tests.servers import ServerProcess
from tests.servers import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

pytestmark = pytest.mark.dev_server


def _check_sample_app(server: ServerProcess) -> None:
    status, headers, body = server.request("GET", "/")
    assert (status, body) == (200, b"Hello from erlen")
    assert headers["content-type"] == "text/html; charset=utf-8"

    status, headers, body = server.request("GET", "/user/42")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert body == b'{"id":42,"name":"user42"}\n'

    form = urllib.parse.urlencode({"name": "Zoë", "email": "z@example.com"}).encode()
    status, _, body = server.request(
        "POST", "/form", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (status, body.decode()) == (200, "name=Zoë email=z@example.com")

    status, headers, _ = server.request("GET", "/old")
    assert status == 302
    assert headers["location"] == "/"

    status, _, body = server.request("GET", "/missing")
    assert status == 404
    assert b"Not Found" in body

    status, headers, _ = server.request("GET", "/only-post")
    assert status == 405
    assert set(headers["allow"].split(", ")) == {"POST", "OPTIONS"}

    status, headers, body = server.request("GET", "/stream")
    assert status == 200
    assert body == b"".join(f"chunk {i}\n".encode() for i in range(5))
    assert "content-length" not in headers

    status, headers, body = server.request(
        "POST", "/form", b"name=%zz", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 400

    status, headers, body = server.request("GET", "/source")
    assert status == 200
    with open(os.path.join(HERE, "apps", "sample_app.py"), "rb") as f:
        assert body == f.read()
    assert headers["content-length"] == str(len(body))


def test_gunicorn_sync_worker(subprocess_env: dict[str, str]) -> None:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--timeout",
        "20",
        "--chdir",
        os.path.join(HERE, "apps"),
        "sample_app:app",
    ]
    with ServerProcess(args, port, env=subprocess_env) as server:
        _check_sample_app(server)


def test_python_hello_py(subprocess_env: dict[str, str], tmp_path: t.Any) -> None:
    # The seeds' hello world, run as a script with the port moved off 5000.
    with open(os.path.join(ROOT, "examples", "hello", "hello.py")) as f:
        source = f.read()
    port = free_port()
    script = tmp_path / "hello.py"
    script.write_text(source.replace("app.run()", f"app.run(port={port})"))
    with ServerProcess([sys.executable, str(script)], port, env=subprocess_env) as server:
        status, headers, body = server.request("GET", "/")
        assert (status, body) == (200, b"Hello World!")
        status, _, _ = server.request("GET", "/nope")
        assert status == 404
        log = server.log()
    assert f"* Running on http://127.0.0.1:{port}" in log
    assert "development server" in log


def test_python_script_serves_sample_app(subprocess_env: dict[str, str], tmp_path: t.Any) -> None:
    port = free_port()
    script = tmp_path / "serve.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {os.path.join(HERE, 'apps')!r})\n"
        "from sample_app import app\n"
        f"app.run(port={port})\n"
    )
    with ServerProcess([sys.executable, str(script)], port, env=subprocess_env) as server:
        _check_sample_app(server)
