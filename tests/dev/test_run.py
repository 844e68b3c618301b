"""The reloading development server, end to end: real processes on 127.0.0.1.

Each test copies a fixture app from ``tests/dev/apps`` into a temporary
directory, runs it with the reloader, edits files and checks what is served.
"""

from __future__ import annotations

import http.client
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import erlen
from erlen.dev.run import error_app
from erlen.dev.run import is_running_from_reloader
from tests.conftest import PYTHON
from tests.servers import ServerProcess
from tests.servers import free_port
from tests.servers import wait_for

APPS = pathlib.Path(__file__).parent / "apps"


def _copy(tmp_path: pathlib.Path, *names: str) -> None:
    for name in names:
        target = "app.py" if name == "script_app.py" else name
        shutil.copy(APPS / name, tmp_path / target)


def _body(server: ServerProcess, path: str = "/", **headers: str) -> tuple[int, str]:
    try:
        status, _, body = server.request("GET", path, headers=headers, timeout=5)
    except OSError as e:
        return -1, repr(e)
    return status, body.decode("utf-8", "replace")


def _serves(server: ServerProcess, text: str, timeout: float = 15.0) -> bool:
    return wait_for(lambda: _body(server)[1] == text, timeout)


def _edit(path: pathlib.Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


# Other people's edits to erlen itself (a source checkout) must not restart
# these servers.
ERLEN_SRC = os.path.join(os.path.dirname(erlen.__file__), "*")


def _script(tmp_path: pathlib.Path, env: dict[str, str], **options: object) -> ServerProcess:
    _copy(tmp_path, "script_app.py")
    options.setdefault("exclude_patterns", [ERLEN_SRC])
    env = dict(env, TEST_RUN_OPTIONS=json.dumps(options))
    port = free_port()
    return ServerProcess([PYTHON, "app.py", str(port)], port, env=env, cwd=str(tmp_path))


def _cli(tmp_path: pathlib.Path, env: dict[str, str], **options: object) -> ServerProcess:
    _copy(tmp_path, "cli_app.py", "mod.py")
    options.setdefault("exclude_patterns", [ERLEN_SRC])
    env = dict(env, TEST_RUN_OPTIONS=json.dumps(options))
    port = free_port()
    return ServerProcess([PYTHON, "cli_app.py", str(port)], port, env=env, cwd=str(tmp_path))


def _pid(server: ServerProcess) -> int:
    status, body = _body(server, "/pid")
    assert status == 200, body
    return int(body)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# -- pure functions -----------------------------------------------------------


def _call(app: object, accept: str = "") -> tuple[str, dict[str, str], str]:
    seen: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"HTTP_ACCEPT": accept, "PATH_INFO": "/"}, start_response))  # type: ignore[operator]
    return str(seen["status"]), seen["headers"], body.decode()  # type: ignore[return-value]


TRACEBACK = """Traceback (most recent call last):
  File "/usr/lib/python3.11/importlib/__init__.py", line 126, in import_module
  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import
  File "/proj/mod.py", line 7, in <module>
    import nothing_here
ModuleNotFoundError: No module named 'nothing_here'
"""


def test_error_app_text_names_file_and_line() -> None:
    status, headers, body = _call(error_app(TRACEBACK))
    assert status.startswith("500")
    assert headers["Content-Type"].startswith("text/plain")
    assert "Fix /proj/mod.py, line 7" in body
    assert "ModuleNotFoundError: No module named 'nothing_here'" in body.splitlines()[1]
    assert int(headers["Content-Length"]) == len(body.encode())


def test_error_app_html_for_browsers_is_escaped() -> None:
    status, headers, body = _call(error_app(TRACEBACK + "<script>"), "text/html,*/*")
    assert status.startswith("500")
    assert headers["Content-Type"].startswith("text/html")
    assert "&lt;script&gt;" in body and "<script>" not in body
    assert "/proj/mod.py, line 7" in body


def test_is_running_from_reloader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ERLEN_RUN_MAIN", raising=False)
    assert not is_running_from_reloader()
    monkeypatch.setenv("ERLEN_RUN_MAIN", "true")
    assert is_running_from_reloader()


# -- real servers ---------------------------------------------------------------


@pytest.mark.dev_server
def test_script_edit_syntax_error_and_fix(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    app = tmp_path / "app.py"
    with _script(tmp_path, subprocess_env) as server:
        assert _body(server) == (200, "v1")
        _edit(app, '"v1"', '"v2"')
        assert _serves(server, "v2"), server.log()
        _edit(app, 'MESSAGE = "v2"', 'MESSAGE = "v2"\ndef broken(:\n')
        assert wait_for(lambda: _body(server)[0] == 500, 15), server.log()
        status, text = _body(server, "/any/path")
        assert status == 500
        assert f"Fix {app}, line 11" in text
        assert "SyntaxError" in text
        status, page = _body(server, "/", Accept="text/html")
        assert "<pre>" in page and "SyntaxError" in page
        _edit(app, "def broken(:\n", "")
        assert _serves(server, "v2"), server.log()
        log = server.log()
    assert "Running on http://127.0.0.1:" in log
    assert log.count("Running on") == 1
    assert "Watching" in log and "(via watchfiles)" in log
    assert f"Detected change in '{app}'" in log


@pytest.mark.dev_server
def test_cli_style_module_errors_are_served(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    mod = tmp_path / "mod.py"
    with _cli(tmp_path, subprocess_env) as server:
        assert _body(server) == (200, "m1")
        _edit(mod, '"m1"', '"m2"')
        assert _serves(server, "m2"), server.log()
        _edit(mod, "import os\n", "import os\nimport nothing_here\n")
        assert wait_for(lambda: _body(server)[0] == 500, 15), server.log()
        text = _body(server)[1]
        assert f"Fix {mod}, line 6" in text
        assert "No module named 'nothing_here'" in text
        _edit(mod, "import nothing_here\n", "")
        assert _serves(server, "m2"), server.log()


@pytest.mark.dev_server
def test_lazy_loading_serves_an_error_on_first_start(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    server = _cli(tmp_path, subprocess_env, eager_loading=False)
    _edit(tmp_path / "mod.py", "MESSAGE =", "1 / 0\nMESSAGE =")
    with server:
        status, text = _body(server)
        assert status == 500 and "ZeroDivisionError" in text
        _edit(tmp_path / "mod.py", "1 / 0\n", "")
        assert _serves(server, "m1"), server.log()


@pytest.mark.dev_server
@pytest.mark.parametrize("eager", [True, None])
def test_eager_loading_exits_with_the_traceback(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str], eager: bool | None
) -> None:
    _copy(tmp_path, "cli_app.py", "mod.py")
    _edit(tmp_path / "mod.py", "MESSAGE =", "1 / 0\nMESSAGE =")
    options = {"eager_loading": eager, "exclude_patterns": [ERLEN_SRC]}
    env = dict(subprocess_env, TEST_RUN_OPTIONS=json.dumps(options))
    result = subprocess.run(
        [PYTHON, "cli_app.py", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 1, result.stderr
    assert "ZeroDivisionError" in result.stderr
    assert f'File "{tmp_path / "mod.py"}", line 8' in result.stderr


@pytest.mark.dev_server
def test_no_refused_connection_during_restarts(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    app = tmp_path / "app.py"
    with _script(tmp_path, subprocess_env) as server:
        seen: list[tuple[int, str]] = []
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                seen.append(_body(server))
                time.sleep(0.01)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            time.sleep(0.3)
            _edit(app, '"v1"', '"v2"')
            wait_for(lambda: seen[-1][1] == "v2", 10)
            _edit(app, '"v2"', '"v3"')
            wait_for(lambda: seen[-1][1] == "v3", 10)
            time.sleep(0.3)
        finally:
            done.set()
            poller.join(10)
    failures = [s for s in seen if s[0] != 200]
    assert not failures, failures[:5]
    bodies = [b for _, b in seen]
    assert bodies[0] == "v1" and bodies[-1] == "v3", bodies
    # Never back to an older version once the new one answered.
    assert bodies == sorted(bodies)
    assert len(seen) > 30


@pytest.mark.dev_server
def test_sigint_stops_supervisor_and_child_and_frees_the_port(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    with _script(tmp_path, subprocess_env) as server:
        assert server.proc is not None
        child = _pid(server)
        assert child != server.proc.pid
        os.kill(server.proc.pid, signal.SIGINT)
        assert server.proc.wait(15) == 0
        assert wait_for(lambda: _gone(child), 10)
        log = server.log()
    assert "Traceback" not in log, log
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", server.port))


@pytest.mark.dev_server
def test_killed_supervisor_leaves_no_orphan(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    with _script(tmp_path, subprocess_env) as server:
        assert server.proc is not None
        child = _pid(server)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
        assert wait_for(lambda: _gone(child), 10), "the child outlived its supervisor"


@pytest.mark.dev_server
def test_stat_reloader_detects_a_change(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    with _script(tmp_path, subprocess_env, reloader_type="stat") as server:
        _edit(tmp_path / "app.py", '"v1"', '"v2"')
        assert _serves(server, "v2"), server.log()
        assert "(via stat)" in server.log()


@pytest.mark.dev_server
def test_forced_polling_by_environment(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    env = dict(subprocess_env, ERLEN_RELOADER_POLL="1")
    with _script(tmp_path, env) as server:
        _edit(tmp_path / "app.py", '"v1"', '"v2"')
        assert _serves(server, "v2"), server.log()
        assert "ERLEN_RELOADER_POLL is set" in server.log()


@pytest.mark.dev_server
def test_extra_files_glob_and_exclude_patterns(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "skip_me.py").write_text("")
    options = {"extra_files": ["conf/*.toml"], "exclude_patterns": ["skip_*.py", ERLEN_SRC]}
    with _cli(tmp_path, subprocess_env, **options) as server:
        first = _pid(server)
        (tmp_path / "skip_me.py").write_text("x = 1\n")
        (tmp_path / "conf" / "other.txt").write_text("x")
        time.sleep(0.6)
        assert _pid(server) == first, server.log()
        (tmp_path / "conf" / "new.toml").write_text("a = 1\n")  # new: re-globbed
        assert wait_for(lambda: _pid(server) != first, 15), server.log()
        assert "Detected change in '" + str(tmp_path / "conf" / "new.toml") in server.log()


@pytest.mark.dev_server
def test_port_in_use_exits_1_with_a_clear_message(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    _copy(tmp_path, "script_app.py")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [PYTHON, "app.py", str(port)],
            cwd=tmp_path,
            env=subprocess_env,
            capture_output=True,
            text=True,
            timeout=20,
        )
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.dev_server
def test_in_flight_request_finishes_during_restart(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    server = _cli(tmp_path, subprocess_env)
    _edit(
        tmp_path / "mod.py",
        "    body = ",
        '    if environ["PATH_INFO"] == "/slow":\n'
        "        import time\n\n"
        "        time.sleep(1.0)\n"
        "    body = ",
    )
    with server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            conn.request("GET", "/slow")
            time.sleep(0.2)
            _edit(tmp_path / "mod.py", '"m1"', '"m2"')
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"m1")
        finally:
            conn.close()
        assert _serves(server, "m2"), server.log()
