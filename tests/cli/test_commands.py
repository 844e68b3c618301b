"""The group and its commands: routes, shell, app.cli commands, plugins, help, version."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import typing as t

import click
import pytest
from click.testing import CliRunner

import erlen
from erlen import Erlen
from erlen import current_app
from erlen.cli import AppGroup
from erlen.cli import ErlenCliRunner
from erlen.cli import ErlenGroup
from erlen.cli import FlaskCliRunner
from erlen.cli import FlaskGroup
from erlen.cli import ScriptInfo
from erlen.cli import with_appcontext
from erlen.ctx import has_app_context


def listed(output: str) -> set[str]:
    """Command names in a help page's Commands section."""
    section = output.split("Commands:\n", 1)[1]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ")}


def invoke(group: click.Command, args: list[str], **kwargs: t.Any) -> t.Any:
    return CliRunner().invoke(group, args, **kwargs)


def test_flask_names_are_aliases() -> None:
    assert FlaskGroup is ErlenGroup
    assert FlaskCliRunner is ErlenCliRunner


def test_version(group: ErlenGroup) -> None:
    result = invoke(group, ["--version"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"Python {platform.python_version()}",
        f"Erlen {erlen.__version__}",
    ]


# -- routes --------------------------------------------------------------------


def routes_app() -> Erlen:
    app = Erlen("routes_app", static_folder=None)

    @app.route("/zeta", methods=["POST"])
    def alpha() -> str:
        return ""

    @app.route("/alpha/<int:n>", methods=["GET", "PUT"])
    def zulu(n: int) -> str:
        return ""

    @app.route("/middle")
    def mike() -> str:
        return ""

    return app


def routes(app: Erlen, *args: str) -> list[str]:
    result = ErlenCliRunner(app).invoke(ErlenGroup(), ["routes", *args])
    assert result.exit_code == 0, result.output
    return t.cast(list[str], result.output.splitlines())


def test_routes_table_sorted_by_endpoint() -> None:
    assert routes(routes_app()) == [
        "Endpoint  Methods   Rule",
        "--------  --------  --------------",
        "alpha     POST      /zeta",
        "mike      GET       /middle",
        "zulu      GET, PUT  /alpha/<int:n>",
    ]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("endpoint", ["alpha", "mike", "zulu"]),
        ("rule", ["zulu", "mike", "alpha"]),
        ("methods", ["mike", "zulu", "alpha"]),
        ("match", ["alpha", "zulu", "mike"]),
    ],
)
def test_routes_sort(sort: str, order: list[str]) -> None:
    lines = routes(routes_app(), "--sort", sort)
    assert [line.split()[0] for line in lines[2:]] == order


def test_routes_hide_head_and_options_unless_asked() -> None:
    app = routes_app()
    assert "HEAD" not in "".join(routes(app)) and "OPTIONS" not in "".join(routes(app))
    lines = routes(app, "--all-methods")
    assert "GET, HEAD, OPTIONS" in lines[3]
    assert "OPTIONS, POST" in lines[2]


def test_routes_subdomain_column() -> None:
    app = Erlen("sub", static_folder=None, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    app.add_url_rule("/", "home", lambda: "")
    app.add_url_rule("/", "api_home", lambda: "", subdomain="api")
    lines = routes(app, "-s", "domain")
    assert lines[0].split() == ["Endpoint", "Methods", "Rule", "Subdomain"]
    assert lines[2].split() == ["home", "GET", "/"]
    assert lines[3].split() == ["api_home", "GET", "/", "api"]


def test_routes_host_column() -> None:
    app = Erlen("hosts", static_folder=None, host_matching=True)
    app.add_url_rule("/", "b_site", lambda: "", host="b.test")
    app.add_url_rule("/", "a_site", lambda: "", host="a.test")
    lines = routes(app, "--sort", "domain")
    assert lines[0].split() == ["Endpoint", "Methods", "Rule", "Host"]
    assert [line.split()[-1] for line in lines[2:]] == ["a.test", "b.test"]


def test_routes_empty() -> None:
    assert routes(Erlen("empty", static_folder=None)) == ["No routes were registered."]


@pytest.mark.usefixtures("in_apps")
def test_routes_through_discovery(group: ErlenGroup) -> None:
    result = invoke(group, ["--app", "hello", "routes"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Endpoint  Methods    Rule",
        "--------  ---------  -----------------------",
        "index     GET        /",
        "static    GET        /static/<path:filename>",
        "user      GET, POST  /user/<int:user_id>",
    ]


# -- app.cli commands ----------------------------------------------------------


@pytest.mark.usefixtures("in_apps")
def test_custom_command_runs_in_the_app_context(group: ErlenGroup) -> None:
    result = invoke(group, ["--app", "commands", "greet", "bob"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello from config, bob\n"
    bare = invoke(ErlenGroup(), ["--app", "commands", "bare"])
    assert bare.output == "bare in commands\n"


@pytest.mark.usefixtures("in_apps")
def test_help_lists_app_commands(group: ErlenGroup) -> None:
    result = invoke(group, ["--app", "commands", "--help"])
    assert result.exit_code == 0
    assert listed(result.output) == {"greet", "bare", "routes", "run", "shell"}


@pytest.mark.usefixtures("in_apps")
def test_no_arguments_shows_help_with_app_commands_from_the_environment(
    group: ErlenGroup,
) -> None:
    result = invoke(group, [], env={"ERLEN_APP": "commands"})
    assert "Usage:" in result.output
    assert "greet" in listed(result.output)


@pytest.mark.usefixtures("in_apps")
@pytest.mark.parametrize("path", ["raises_on_import", "nothere"])
def test_help_shows_the_load_error_and_still_lists_builtins(group: ErlenGroup, path: str) -> None:
    result = invoke(group, ["--app", path, "--help"])
    assert result.exit_code == 0
    assert "Error: " in result.stderr
    assert ("While importing" if path != "nothere" else "Could not import") in result.stderr
    assert listed(result.stdout) == {"routes", "run", "shell"}


@pytest.mark.usefixtures("in_apps")
def test_unknown_command_with_a_broken_app_shows_why(group: ErlenGroup) -> None:
    result = invoke(group, ["--app", "raises_on_import", "greet"])
    assert result.exit_code == 2
    assert "No such command 'greet'" in result.output
    assert "RuntimeError: settings file is broken" in result.output


@pytest.mark.usefixtures("in_apps")
def test_unknown_command_with_a_working_app(group: ErlenGroup) -> None:
    result = invoke(group, ["--app", "hello", "nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output
    assert "could not be loaded" not in result.output


def test_app_group_helpers() -> None:
    app = Erlen("grouped")
    group = AppGroup("top")
    seen: list[bool] = []

    @group.command("plain", with_appcontext=False)
    def plain() -> None:
        seen.append(has_app_context())

    @group.group("sub")
    def sub() -> None:
        pass

    assert isinstance(sub, AppGroup)

    @sub.command()
    def inner() -> None:
        click.echo(current_app.name)

    runner = ErlenCliRunner(app)
    assert runner.invoke(group, ["plain"]).exit_code == 0
    assert seen == [False]
    assert runner.invoke(group, ["sub", "inner"]).output == "grouped\n"


@pytest.mark.usefixtures("in_apps")
def test_help_leaves_no_app_context_behind(group: ErlenGroup) -> None:
    assert invoke(group, ["--app", "commands", "--help"]).exit_code == 0
    assert not has_app_context()


@pytest.mark.usefixtures("in_apps")
def test_plain_click_command_on_app_cli_gets_the_app_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Erlen("plain_click")

    @click.command("ctx-check")
    def ctx_check() -> None:
        click.echo(f"{has_app_context()} {current_app.name}")

    app.cli.add_command(ctx_check)
    result = invoke(ErlenGroup(create_app=lambda: app), ["ctx-check"])
    assert result.output == "True plain_click\n"
    assert not has_app_context()


def test_with_appcontext_reuses_an_active_context() -> None:
    app = Erlen("active")
    loads: list[int] = []

    def create() -> Erlen:
        loads.append(1)
        return Erlen("other")

    @click.command()
    @with_appcontext
    def which() -> None:
        click.echo(current_app.name)

    with app.app_context():
        result = CliRunner().invoke(which, obj=ScriptInfo(create_app=create))
    assert result.output == "active\n"
    assert loads == []


def test_cli_runner_defaults_to_the_app_cli() -> None:
    app = Erlen("runner_app")

    @app.cli.command("hi")
    @click.option("--name", default="x")
    def hi(name: str) -> None:
        click.echo(f"hi {name} from {current_app.name}")

    result = ErlenCliRunner(app).invoke(args=["hi", "--name", "y"])
    assert result.exit_code == 0, result.output
    assert result.output == "hi y from runner_app\n"


# -- plugins -------------------------------------------------------------------


@click.command("plugged")
def plugin_command() -> None:
    """A command installed through the erlen.commands entry point group."""
    click.echo("plugin ran")


def fake_entry_points(monkeypatch: pytest.MonkeyPatch, *values: tuple[str, str]) -> list[str]:
    groups: list[str] = []

    def entry_points(*, group: str) -> list[importlib.metadata.EntryPoint]:
        groups.append(group)
        return [importlib.metadata.EntryPoint(name, value, group) for name, value in values]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return groups


def test_plugin_commands_are_loaded(group: ErlenGroup, monkeypatch: pytest.MonkeyPatch) -> None:
    groups = fake_entry_points(monkeypatch, ("plugged", f"{__name__}:plugin_command"))
    result = invoke(group, ["plugged"])
    assert result.exit_code == 0, result.output
    assert result.output == "plugin ran\n"
    assert groups == ["erlen.commands"]
    assert "plugged" in listed(invoke(group, ["--help"]).output)


def test_a_broken_plugin_is_reported_and_skipped(
    group: ErlenGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_entry_points(
        monkeypatch,
        ("broken", "erlen_no_such_plugin_xyz:cmd"),
        ("plugged", f"{__name__}:plugin_command"),
    )
    result = invoke(group, ["plugged"])
    assert result.exit_code == 0
    assert "could not load the plugin command 'broken'" in result.stderr
    assert "erlen_no_such_plugin_xyz" in result.stderr
    assert result.stdout == "plugin ran\n"


# -- shell ---------------------------------------------------------------------


@pytest.fixture
def plain_shell(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """No IPython or ptpython, and a recorded (harmless) interactive hook."""
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "ptpython", None)
    monkeypatch.setitem(sys.modules, "ptpython.repl", None)
    calls: list[int] = []
    monkeypatch.setattr(sys, "__interactivehook__", lambda: calls.append(1), raising=False)
    return calls


@pytest.mark.usefixtures("in_apps")
def test_shell_has_the_app_and_shell_context(
    group: ErlenGroup, plain_shell: list[int], tmp_path: t.Any
) -> None:
    startup = tmp_path / "startup.py"
    startup.write_text("started = 'yes'\n")
    result = invoke(
        group,
        ["--app", "commands", "shell"],
        input="print(app.name, answer, started, g is not None)\n",
        env={"PYTHONSTARTUP": str(startup)},
    )
    assert result.exit_code == 0, result.output
    assert "commands 42 yes True" in result.stdout
    banner = result.stderr
    assert f"Python {sys.version}" in banner
    assert "App: commands" in banner
    assert "Instance: " + os.path.join(os.getcwd(), "instance") in banner
    assert plain_shell == [1]


@pytest.mark.usefixtures("in_apps")
@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ("bogus", "ERLEN_SHELL is 'bogus'"),
        ("ipython", "IPython is not installed"),
        ("ptpython", "ptpython is not installed"),
    ],
)
def test_shell_choice_errors(
    group: ErlenGroup, plain_shell: list[int], choice: str, message: str
) -> None:
    result = invoke(group, ["--app", "hello", "shell"], env={"ERLEN_SHELL": choice})
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.usefixtures("in_apps")
def test_shell_uses_ipython_when_installed(
    group: ErlenGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[dict[str, t.Any]] = []

    class FakeIPython:
        @staticmethod
        def start_ipython(argv: list[str], user_ns: dict[str, t.Any]) -> None:
            started.append(user_ns)

    monkeypatch.setitem(sys.modules, "IPython", t.cast(t.Any, FakeIPython))
    result = invoke(group, ["--app", "commands", "shell"])
    assert result.exit_code == 0, result.output
    assert "App: commands" in result.stdout
    assert len(started) == 1 and started[0]["answer"] == 42
