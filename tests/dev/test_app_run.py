"""``python app.py`` with ``app.run()``: the debugger exists only in debug mode."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from erlen.dev.run import _warn_exposed_console
from tests.conftest import PYTHON
from tests.servers import ServerProcess
from tests.servers import free_port
from tests.servers import wait_for

pytestmark = pytest.mark.dev_server

SCRIPT = textwrap.dedent(
    """
    from erlen import Erlen

    app = Erlen(__name__)

    @app.route("/")
    def index():
        return "MESSAGE"

    @app.route("/boom")
    def boom():
        secret_local = "do-not-show"
        raise ValueError("exploded")

    if __name__ == "__main__":
        app.run(port=PORT, debug=DEBUG)
    """
)


def _serve(tmp_path: pathlib.Path, env: dict[str, str], debug: bool) -> ServerProcess:
    port = free_port()
    source = SCRIPT.replace("PORT", str(port)).replace("DEBUG", str(debug))
    (tmp_path / "app.py").write_text(source)
    env = {**env, "ERLEN_DEBUG_PIN": "111-222-333"}
    return ServerProcess([PYTHON, "app.py"], port, env=env, cwd=str(tmp_path))


def test_debug_off_has_no_debugger(tmp_path: pathlib.Path, subprocess_env: dict[str, str]) -> None:
    with _serve(tmp_path, subprocess_env, debug=False) as server:
        status, _, body = server.request("GET", "/boom", headers={"Accept": "text/html"})
        assert status == 500
        assert b"exploded" not in body and b"do-not-show" not in body
        assert b"Traceback" not in body
        for path in ("/__debugger__/static/debugger.js", "/console"):
            assert server.request("GET", path)[0] == 404
        log = server.log()
    assert "Debugger" not in log
    assert "ValueError: exploded" in log  # the traceback goes to the terminal


def test_debug_on_prints_one_pin_across_reloads(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    with _serve(tmp_path, subprocess_env, debug=True) as server:
        status, _, body = server.request("GET", "/boom", headers={"Accept": "text/plain"})
        assert status == 500
        assert b"ValueError: exploded" in body
        app = tmp_path / "app.py"
        app.write_text(app.read_text().replace('"MESSAGE"', '"CHANGED"'))
        assert wait_for(lambda: server.request("GET", "/")[2] == b"CHANGED", 15), server.log()
        log = server.log()
    assert log.count("Debugger PIN: 111-222-333") == 1, log
    assert log.count("Debugger is active!") == 1, log


def test_console_beyond_loopback_is_announced(capsys: pytest.CaptureFixture[str]) -> None:
    # Called directly: tests never bind beyond loopback.
    _warn_exposed_console("0.0.0.0", 5000, use_debugger=True, use_evalex=True)
    assert "anyone who can reach this address" in capsys.readouterr().err
    _warn_exposed_console("127.0.0.1", 5000, use_debugger=True, use_evalex=True)
    _warn_exposed_console("0.0.0.0", 5000, use_debugger=True, use_evalex=False)
    _warn_exposed_console("0.0.0.0", 5000, use_debugger=False, use_evalex=True)
    assert capsys.readouterr().err == ""
