"""Reloads through the zygote: a preloaded process that forks serving children.

Real processes on 127.0.0.1 (see ``tests/servers.py``). Which reload goes
through the zygote depends on timing (it preloads in the background), so the
tests save until one does, then check what is served.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import sys

import pytest

from erlen.dev.run import _entry
from erlen.dev.run import _excluded
from erlen.dev.run import _static_imports
from tests.conftest import PYTHON
from tests.dev.test_run import ERLEN_SRC
from tests.dev.test_run import _body
from tests.dev.test_run import _edit
from tests.dev.test_run import _gone
from tests.dev.test_run import _serves
from tests.servers import ServerProcess
from tests.servers import free_port
from tests.servers import wait_for

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the zygote is Linux-only (/proc in tests)"
)

APP = """\
import os
import sys

import helper

MESSAGE = "v1"


def app(environ, start_response):
    path = environ["PATH_INFO"]
    pages = {"/pid": os.getpid(), "/ppid": os.getppid(), "/helper": helper.VALUE}
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(pages.get(path, MESSAGE)).encode()]


if __name__ == "__main__":
    import json

    from erlen.dev.run import run_dev_server

    options = json.loads(os.environ["TEST_RUN_OPTIONS"])
    run_dev_server(lambda: app, port=int(sys.argv[1]), use_reloader=True, **options)
"""


def _server(tmp_path: pathlib.Path, env: dict[str, str]) -> ServerProcess:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "helper.py").write_text('VALUE = "h1"\n')
    env = dict(env, TEST_RUN_OPTIONS=json.dumps({"exclude_patterns": [ERLEN_SRC]}))
    port = free_port()
    return ServerProcess([PYTHON, "app.py", str(port)], port, env=env, cwd=str(tmp_path))


def _forked(server: ServerProcess) -> bool:
    """Whether the serving child's parent is a zygote (not the supervisor)."""
    assert server.proc is not None
    status, ppid = _body(server, "/ppid")
    return status == 200 and int(ppid) != server.proc.pid


def _save_until_forked(server: ServerProcess, path: pathlib.Path, old: str, make: str) -> str:
    """Save new versions of ``path`` until a zygote child serves one; the last version."""
    for n in range(2, 12):
        new = make.format(n)
        _edit(path, f'"{old}"', f'"{new}"')
        old = new
        page = "/" if path.name == "app.py" else "/helper"
        expected = (200, new)
        assert wait_for(lambda p=page, e=expected: _body(server, p) == e, 15), server.log()
        if _forked(server):
            return new
        wait_for(lambda: False, 0.5)  # give the zygote time to preload
    raise AssertionError(f"no reload went through the zygote:\n{server.log()}")


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    stack = [pid]
    while stack:
        parent = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                continue
            found += kids
            stack += kids
    return found


# -- pure functions -------------------------------------------------------------


def test_static_imports_resolve_relative_names(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "import os.path\nfrom . import sibling\nfrom ..up import thing\ndef f():\n    import lazy\n"
    )
    found = _static_imports("pkg.sub.mod", str(source))
    assert {"os.path", "pkg.sub", "pkg.sub.sibling", "pkg.up", "pkg.up.thing", "lazy"} <= found


def test_excluded_follows_importers_and_packages(tmp_path: pathlib.Path) -> None:
    files: dict[str, str | None] = {}
    for name, text in {
        "helper": "VALUE = 1\n",
        "views": "import helper\n",
        "stable": "import json\n",
        "pkg/__init__": "from . import a\n",
        "pkg/a": "",
        "pkg/b": "",
    }.items():
        path = tmp_path / f"{name}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        files[name.replace("/__init__", "").replace("/", ".")] = str(path)
    files["json"] = None
    excluded = _excluded(files, {"app"}, {files["helper"] or "", files["pkg.a"] or ""})
    assert {"__main__", "app", "helper", "views", "pkg.a", "pkg", "pkg.b"} <= excluded
    assert "stable" not in excluded and "json" not in excluded


def test_entry_of_a_script(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    script = tmp_path / "app.py"
    script.write_text("")
    monkeypatch.setattr(sys, "orig_argv", ["python", "-X", "dev", "-B", str(script), "5000"])
    entry = _entry()
    assert entry is not None
    assert (entry.kind, entry.target, entry.args) == ("script", str(script), ["5000"])
    assert entry.options == ["-X", "dev", "-B"]
    monkeypatch.setattr(sys, "orig_argv", ["python", "-m", "erlen", "run"])
    entry = _entry()
    assert entry is not None and (entry.kind, entry.target, entry.args) == (
        "module",
        "erlen",
        ["run"],
    )
    monkeypatch.setattr(sys, "orig_argv", ["python", "-c", "pass"])
    assert _entry() is None


# -- real servers ---------------------------------------------------------------


@pytest.mark.dev_server
def test_reload_through_the_zygote_serves_the_new_content(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    with _server(tmp_path, subprocess_env) as server:
        assert _body(server) == (200, "v1")
        version = _save_until_forked(server, tmp_path / "app.py", "v1", "v{}")
        # And the next save, from the same zygote, too.
        _edit(tmp_path / "app.py", f'"{version}"', '"final"')
        assert _serves(server, "final"), server.log()
        assert _forked(server), server.log()
        assert _body(server, "/helper") == (200, "h1")
        log = server.log()
    assert "Traceback" not in log, log


@pytest.mark.dev_server
def test_changing_a_preloaded_module_shows_the_change(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    helper = tmp_path / "helper.py"
    with _server(tmp_path, subprocess_env) as server:
        _save_until_forked(server, tmp_path / "app.py", "v1", "v{}")
        # helper.py is preloaded in the zygote now: its change must still show.
        _edit(helper, '"h1"', '"h2"')
        assert wait_for(lambda: _body(server, "/helper") == (200, "h2"), 15), server.log()
        # Then it is left out of the next zygote, which serves its changes.
        _save_until_forked(server, helper, "h2", "h{}0")


@pytest.mark.dev_server
def test_syntax_error_in_a_forked_child_and_the_fix(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    app = tmp_path / "app.py"
    with _server(tmp_path, subprocess_env) as server:
        version = _save_until_forked(server, app, "v1", "v{}")
        _edit(app, f'MESSAGE = "{version}"', f'MESSAGE = "{version}"\ndef broken(:\n')
        assert wait_for(lambda: _body(server)[0] == 500, 15), server.log()
        status, text = _body(server, "/")
        assert status == 500 and "SyntaxError" in text
        assert f"Fix {app}, line 7" in text
        _edit(app, "def broken(:\n", "")
        assert _serves(server, version), server.log()


@pytest.mark.dev_server
def test_sigint_leaves_no_zygote_or_child(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    with _server(tmp_path, subprocess_env) as server:
        assert server.proc is not None
        _save_until_forked(server, tmp_path / "app.py", "v1", "v{}")
        family = _descendants(server.proc.pid)
        assert len(family) >= 2  # the zygote and its child, at least
        os.kill(server.proc.pid, signal.SIGINT)
        assert server.proc.wait(15) == 0
        assert wait_for(lambda: all(_gone(pid) for pid in family), 10), family
        log = server.log()
    assert "Traceback" not in log, log


@pytest.mark.dev_server
def test_killed_supervisor_takes_the_zygote_and_its_child(
    tmp_path: pathlib.Path, subprocess_env: dict[str, str]
) -> None:
    with _server(tmp_path, subprocess_env) as server:
        assert server.proc is not None
        _save_until_forked(server, tmp_path / "app.py", "v1", "v{}")
        family = _descendants(server.proc.pid)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
        assert wait_for(lambda: all(_gone(pid) for pid in family), 10), family
