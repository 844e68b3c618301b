"""``erlen run``: option parsing into ``run_dev_server``, and real servers."""

from __future__ import annotations

import os
import sys
import typing as t

import pytest
from click.testing import CliRunner

import erlen.dev.run
from erlen.cli import ErlenGroup

from ..conftest import PYTHON
from ..servers import ServerProcess
from ..servers import free_port
from .conftest import APPS


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, t.Any]]:
    """Record run_dev_server's arguments instead of serving."""
    recorded: list[dict[str, t.Any]] = []

    def run_dev_server(**kwargs: t.Any) -> None:
        recorded.append(kwargs)

    monkeypatch.setattr(erlen.dev.run, "run_dev_server", run_dev_server)
    monkeypatch.chdir(APPS)
    return recorded


def run(
    calls: list[dict[str, t.Any]], *args: str, env: dict[str, str] | None = None
) -> dict[str, t.Any]:
    result = CliRunner().invoke(ErlenGroup(), ["--app", "hello", *args], env=env)
    assert result.exit_code == 0, result.output
    assert len(calls) == 1
    return {**calls[0], "output": result.output}


def test_defaults(calls: list[dict[str, t.Any]]) -> None:
    got = run(calls, "run")
    app = got.pop("load_app")()
    assert app.name == "hello"
    assert got == {
        "host": "127.0.0.1",
        "port": 5000,
        "use_reloader": False,
        "use_debugger": False,
        "extra_files": None,
        "exclude_patterns": None,
        "threaded": True,
        "ssl_context": None,
        "eager_loading": None,
        "app_import_path": "hello",
        "debugger_trusted_hosts": [],
        "output": " * Serving Erlen app 'hello' (from --app)\n * Debug mode: off\n",
    }
    assert os.environ["ERLEN_RUN_FROM_CLI"] == "true"


def test_debugger_trusted_hosts(calls: list[dict[str, t.Any]]) -> None:
    got = run(
        calls,
        "run",
        "--debugger-trusted-host",
        "dev.test",
        "--debugger-trusted-host",
        ".box.internal",
    )
    assert got["debugger_trusted_hosts"] == ["dev.test", ".box.internal"]


def test_debug_turns_on_reloader_and_debugger(calls: list[dict[str, t.Any]]) -> None:
    got = run(calls, "--debug", "run")
    assert (got["use_reloader"], got["use_debugger"]) == (True, True)
    assert "Debug mode: on" in got["output"]


def test_reload_and_debugger_flags_override_debug(calls: list[dict[str, t.Any]]) -> None:
    got = run(calls, "--debug", "run", "--no-reload", "--no-debugger")
    assert (got["use_reloader"], got["use_debugger"]) == (False, False)


def test_host_port_threads_loading(calls: list[dict[str, t.Any]]) -> None:
    got = run(calls, "run", "-h", "0.0.0.0", "-p", "8123", "--without-threads", "--lazy-loading")
    assert (got["host"], got["port"], got["threaded"]) == ("0.0.0.0", 8123, False)
    assert got["eager_loading"] is False


def test_eager_loading(calls: list[dict[str, t.Any]]) -> None:
    assert run(calls, "run", "--eager-loading")["eager_loading"] is True


@pytest.mark.parametrize(
    ("env", "args", "port"),
    [
        ({"ERLEN_RUN_PORT": "6001"}, [], 6001),
        ({"FLASK_RUN_PORT": "6002"}, [], 6002),
        ({"ERLEN_RUN_PORT": "6001", "FLASK_RUN_PORT": "6002"}, [], 6001),
        ({"ERLEN_RUN_PORT": "6001"}, ["--port", "6003"], 6003),
    ],
)
def test_port_from_the_environment(
    calls: list[dict[str, t.Any]], env: dict[str, str], args: list[str], port: int
) -> None:
    assert run(calls, "run", *args, env=env)["port"] == port


def test_other_run_options_from_the_environment(calls: list[dict[str, t.Any]]) -> None:
    got = run(
        calls,
        "run",
        env={
            "ERLEN_RUN_HOST": "127.0.0.2",
            "FLASK_RUN_RELOAD": "true",
            "ERLEN_RUN_EXTRA_FILES": os.pathsep.join(["a.cfg", "conf/*.toml"]),
        },
    )
    assert (got["host"], got["use_reloader"]) == ("127.0.0.2", True)
    assert got["extra_files"] == ["a.cfg", "conf/*.toml"]


def test_port_from_a_dotenv_file(
    calls: list[dict[str, t.Any]], tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "site_app.py").write_text("from erlen import Erlen\napp = Erlen('s')\n")
    (tmp_path / ".env").write_text("ERLEN_APP=site_app\nERLEN_RUN_PORT=6123\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(ErlenGroup(), ["run"])
    assert result.exit_code == 0, result.output
    assert calls[0]["port"] == 6123
    assert calls[0]["app_import_path"] == "site_app"
    assert "(from ERLEN_APP)" in result.output


def test_extra_files_and_exclude_patterns(calls: list[dict[str, t.Any]]) -> None:
    got = run(
        calls,
        "run",
        "--extra-files",
        os.pathsep.join(["settings.toml", "templates/**/*.html"]),
        "--exclude-patterns",
        os.pathsep.join(["*.log", "tmp/*"]),
    )
    assert got["extra_files"] == ["settings.toml", "templates/**/*.html"]
    assert got["exclude_patterns"] == ["*.log", "tmp/*"]


def test_banner_without_an_import_path_names_the_conventional_file(
    calls: list[dict[str, t.Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(os.path.join(APPS, "wsgi_project"))
    result = CliRunner().invoke(ErlenGroup(), ["run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(" * Serving Erlen app 'wsgi'\n")
    assert calls[0]["load_app"]().name == "from_wsgi_py"


def test_banner_is_not_repeated_in_the_serving_child(calls: list[dict[str, t.Any]]) -> None:
    got = run(calls, "run", env={"ERLEN_RUN_MAIN": "true"})
    assert got["output"] == ""


# -- TLS -------------------------------------------------------------------------


@pytest.fixture
def cert_files(tmp_path: t.Any) -> tuple[str, str]:
    cert, key = tmp_path / "dev.crt", tmp_path / "dev.key"
    cert.write_text("cert")
    key.write_text("key")
    return str(cert), str(key)


def test_cert_and_key_become_a_pair(
    calls: list[dict[str, t.Any]], cert_files: tuple[str, str]
) -> None:
    cert, key = cert_files
    assert run(calls, "run", "--cert", cert, "--key", key)["ssl_context"] == (cert, key)


def test_adhoc_cert(calls: list[dict[str, t.Any]]) -> None:
    assert run(calls, "run", "--cert", "adhoc")["ssl_context"] == "adhoc"


def test_ssl_context_object_by_import_path(
    calls: list[dict[str, t.Any]], tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tls_conf.py").write_text(
        "import ssl\ncontext = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    got = run(calls, "run", "--cert", "tls_conf:context")
    assert type(got["ssl_context"]).__name__ == "SSLContext"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cert", "adhoc", "--key", "KEY"], 'When "--cert" is "adhoc", "--key" is not used.'),
        (["--key", "KEY"], '"--cert" must also be specified'),
        (["--cert", "CERT"], 'Required when using "--cert"'),
        (["--cert", "no/such/file.pem"], "does not exist"),
    ],
)
def test_cert_errors(
    calls: list[dict[str, t.Any]], cert_files: tuple[str, str], args: list[str], message: str
) -> None:
    cert, key = cert_files
    args = [{"CERT": cert, "KEY": key}.get(a, a) for a in args]
    result = CliRunner().invoke(ErlenGroup(), ["--app", "hello", "run", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert calls == []


def test_adhoc_without_cryptography_says_to_install_it(
    calls: list[dict[str, t.Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    result = CliRunner().invoke(ErlenGroup(), ["--app", "hello", "run", "--cert", "adhoc"])
    assert result.exit_code == 2
    assert "requires the cryptography library" in result.output
    assert "pip install cryptography" in result.output
    assert calls == []


# -- real processes --------------------------------------------------------------


@pytest.mark.dev_server
def test_real_server_answers_http(subprocess_env: dict[str, str]) -> None:
    port = free_port()
    args = [PYTHON, "-m", "erlen", "--app", "hello", "run", "--port", str(port)]
    with ServerProcess(args, port, env=subprocess_env, cwd=APPS) as server:
        status, _, body = server.request("GET", "/user/7")
        assert (status, body) == (200, b"user 7")
        log = server.log()
    assert " * Serving Erlen app 'hello' (from --app)" in log
    assert " * Debug mode: off" in log


@pytest.mark.dev_server
def test_real_server_with_reloader_prints_the_banner_once(subprocess_env: dict[str, str]) -> None:
    port = free_port()
    subprocess_env["ERLEN_APP"] = "hello"
    args = [PYTHON, "-m", "erlen", "--debug", "run", "--port", str(port)]
    with ServerProcess(args, port, env=subprocess_env, cwd=APPS) as server:
        status, _, body = server.request("GET", "/")
        assert (status, body) == (200, b"Hello from hello.py")
        log = server.log()
    assert log.count(" * Serving Erlen app 'hello' (from ERLEN_APP)") == 1
    assert log.count(" * Debug mode: on") == 1


@pytest.mark.dev_server
def test_real_server_lazy_loading_serves_the_import_error(
    subprocess_env: dict[str, str],
) -> None:
    port = free_port()
    args = [PYTHON, "-m", "erlen", "--app", "raises_on_import", "run", "--port", str(port)]
    args += ["--reload", "--lazy-loading"]
    with ServerProcess(args, port, env=subprocess_env, cwd=APPS) as server:
        status, _, body = server.request("GET", "/", headers={"Accept": "text/plain"})
        log = server.log()
    assert status == 500
    assert b"settings file is broken" in body
    assert b"While importing 'raises_on_import'" in body
    # The user's traceback, without erlen's own frames, and advice fit for a reload.
    summary = body.decode().splitlines()[1]
    assert summary.startswith("'raises_on_import' failed to load: ") and "Error" in summary
    assert b"erlen/cli.py" not in body and "erlen/cli.py" not in log
    assert b"save: the server reloads" in body
    assert b"run the command again" not in body
