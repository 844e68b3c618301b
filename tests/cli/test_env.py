"""Environment: .env files and their precedence, ERLEN_*/FLASK_* names, debug mode."""

from __future__ import annotations

import os
import sys
import typing as t

import click
import pytest
from click.testing import CliRunner

from erlen import current_app
from erlen.cli import ErlenGroup
from erlen.cli import ScriptInfo
from erlen.cli import get_debug_flag
from erlen.cli import load_dotenv

KEYS = ("FROM_FLASKENV", "FROM_ERLENENV", "FROM_DOTENV", "FROM_ENV_FILE", "FROM_REAL_ENV")


def write_env_files(root: t.Any) -> None:
    """Every file sets every key, naming itself."""
    for name, label in (
        (".flaskenv", "flaskenv"),
        (".erlenenv", "erlenenv"),
        (".env", "dotenv"),
        ("custom.env", "env_file"),
    ):
        (root / name).write_text("".join(f"{key}={label}\n" for key in KEYS))


def env_group() -> ErlenGroup:
    group = ErlenGroup(name="erlen")

    @group.command("show-env", with_appcontext=False)
    def show_env() -> None:
        for key in KEYS:
            click.echo(f"{key}={os.environ.get(key)}")

    return group


def test_precedence_real_env_then_env_file_then_dotenv_then_erlenenv(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each file sets the key named after it and the keys of the stronger layers.
    (tmp_path / ".flaskenv").write_text("\n".join(f"{k}=flaskenv" for k in KEYS) + "\n")
    (tmp_path / ".erlenenv").write_text(
        "\n".join(f"{k}=erlenenv" for k in KEYS if k != "FROM_FLASKENV") + "\n"
    )
    (tmp_path / ".env").write_text(
        "\n".join(f"{k}=dotenv" for k in KEYS[2:]) + "\n",
    )
    (tmp_path / "custom.env").write_text("\n".join(f"{k}=env_file" for k in KEYS[3:]) + "\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FROM_REAL_ENV", "real")
    result = CliRunner().invoke(env_group(), ["-e", "custom.env", "show-env"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "FROM_FLASKENV=flaskenv",
        "FROM_ERLENENV=erlenenv",
        "FROM_DOTENV=dotenv",
        "FROM_ENV_FILE=env_file",
        "FROM_REAL_ENV=real",
    ]


def test_each_layer_overrides_the_weaker_ones(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FROM_REAL_ENV", "real")
    assert load_dotenv(tmp_path / "custom.env") is True
    # Every file sets every key: the strongest layer wins each one.
    assert {k: os.environ[k] for k in KEYS} == {
        "FROM_FLASKENV": "env_file",
        "FROM_ERLENENV": "env_file",
        "FROM_DOTENV": "env_file",
        "FROM_ENV_FILE": "env_file",
        "FROM_REAL_ENV": "real",
    }


def test_defaults_without_env_file(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".flaskenv").write_text("A=flaskenv\nB=flaskenv\nC=flaskenv\n")
    (tmp_path / ".erlenenv").write_text("B=erlenenv\nC=erlenenv\n")
    (tmp_path / ".env").write_text("C=dotenv\n")
    monkeypatch.chdir(tmp_path)
    for key in "ABC":
        monkeypatch.delenv(key, raising=False)
    assert load_dotenv() is True
    assert (os.environ["A"], os.environ["B"], os.environ["C"]) == ("flaskenv", "erlenenv", "dotenv")


def test_env_files_are_found_by_walking_up(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("WALKED_UP=yes\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    monkeypatch.delenv("WALKED_UP", raising=False)
    assert load_dotenv() is True
    assert os.environ["WALKED_UP"] == "yes"


def test_load_defaults_false_reads_only_the_given_file(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("ONLY_DEFAULT=yes\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONLY_DEFAULT", raising=False)
    assert load_dotenv(load_defaults=False) is False
    assert "ONLY_DEFAULT" not in os.environ


def test_skip_dotenv_variable(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("SKIPPED=no\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SKIPPED", raising=False)
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")
    result = CliRunner().invoke(env_group(), ["show-env"])
    assert result.exit_code == 0, result.output
    assert "SKIPPED" not in os.environ


def test_without_python_dotenv_a_tip_is_printed(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".erlenenv").write_text("X=1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "dotenv", None)
    assert load_dotenv() is False
    assert "Install python-dotenv" in capsys.readouterr().err


def test_without_python_dotenv_and_no_files_nothing_is_printed(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "dotenv", None)
    assert load_dotenv() is False
    assert capsys.readouterr().err == ""


def test_env_file_option_without_python_dotenv_is_refused(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "custom.env").write_text("X=1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "dotenv", None)
    result = CliRunner().invoke(env_group(), ["-e", "custom.env", "show-env"])
    assert result.exit_code == 2
    assert "python-dotenv must be installed" in result.output


# -- where the app comes from --------------------------------------------------


def app_name_group() -> ErlenGroup:
    group = ErlenGroup(name="erlen")

    @group.command("which")
    def which() -> None:
        click.echo(f"app={current_app.name}")

    return group


@pytest.mark.usefixtures("in_apps")
@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({"FLASK_APP": "hello"}, [], "app=hello"),
        ({"ERLEN_APP": "single_instance"}, [], "app=single_instance"),
        ({"ERLEN_APP": "single_instance", "FLASK_APP": "hello"}, [], "app=single_instance"),
        ({"ERLEN_APP": "single_instance"}, ["--app", "make_app_mod"], "app=made_by_make_app"),
        ({}, ["-A", "hello"], "app=hello"),
    ],
)
def test_app_from_option_then_erlen_app_then_flask_app(
    env: dict[str, str], args: list[str], expected: str
) -> None:
    result = CliRunner().invoke(app_name_group(), [*args, "which"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == expected


def test_app_from_a_dotenv_file(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mysite.py").write_text("from erlen import Erlen\napp = Erlen('from_dotenv')\n")
    (tmp_path / ".erlenenv").write_text("ERLEN_APP=mysite.py\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app_name_group(), ["which"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "app=from_dotenv"


# -- debug mode ----------------------------------------------------------------


def debug_group() -> ErlenGroup:
    group = ErlenGroup(name="erlen")

    @group.command("debug-state")
    def debug_state() -> None:
        click.echo(f"debug={current_app.debug} env={os.environ.get('ERLEN_DEBUG')}")

    return group


@pytest.mark.usefixtures("in_apps")
@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({}, [], "debug=False env=None"),
        ({}, ["--debug"], "debug=True env=1"),
        ({"FLASK_DEBUG": "1"}, [], "debug=True env=None"),
        ({"ERLEN_DEBUG": "1"}, ["--no-debug"], "debug=False env=0"),
        ({"ERLEN_DEBUG": "0", "FLASK_DEBUG": "1"}, [], "debug=False env=0"),
        ({"FLASK_ENV": "development"}, [], "debug=True env=None"),
    ],
)
def test_debug_flag(env: dict[str, str], args: list[str], expected: str) -> None:
    result = CliRunner().invoke(debug_group(), ["--app", "hello", *args, "debug-state"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == expected


def test_flask_env_development_notes_the_modern_spelling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_ENV", "development")
    runner = CliRunner()
    with runner.isolation() as (_, _, err):
        assert get_debug_flag() is True
        assert get_debug_flag() is True
        text = err.getvalue().decode()
    assert "ERLEN_ENV=development turns debug mode on" in text
    assert "--debug" in text
    assert text.count("Note:") == 1


def test_set_debug_flag_false_keeps_the_apps_own_setting() -> None:
    from erlen import Erlen

    app = Erlen("keeps_debug")
    app.debug = True
    info = ScriptInfo(create_app=lambda: app, set_debug_flag=False)
    assert info.load_app().debug is True
    assert ScriptInfo(create_app=lambda: app).load_app().debug is False


@pytest.mark.usefixtures("in_apps")
def test_module_level_app_run_does_nothing_under_the_cli() -> None:
    result = CliRunner().invoke(app_name_group(), ["--app", "unguarded_run", "which"])
    assert result.exit_code == 0, result.output
    # COMPAT: as Flask does, the ignored call is reported, and the command still runs.
    assert result.output.splitlines()[0] == "app=unguarded_run"
    assert "Ignoring a call to 'app.run()'" in result.output
    assert os.environ["ERLEN_RUN_FROM_CLI"] == "true"
