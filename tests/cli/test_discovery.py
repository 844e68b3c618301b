"""App discovery: the five ways to name an app, and the three ways it can fail."""

from __future__ import annotations

import importlib
import os
import sys
import typing as t

import pytest
from click.testing import CliRunner

from erlen import Erlen
from erlen.cli import ErlenGroup
from erlen.cli import NoAppException
from erlen.cli import ScriptInfo
from erlen.cli import find_app_by_string
from erlen.cli import find_best_app
from erlen.cli import locate_app
from erlen.cli import prepare_import

from .conftest import APPS

pytestmark = pytest.mark.usefixtures("in_apps")


def module(name: str) -> t.Any:
    return importlib.import_module(prepare_import(name))


def load(path: str | None) -> Erlen:
    return ScriptInfo(app_import_path=path).load_app()


def load_error(path: str | None) -> str:
    with pytest.raises(NoAppException) as info:
        load(path)
    return info.value.format_message()


def assert_no_internal_frames(text: str) -> None:
    """The user sees their own frames, not erlen's, click's or importlib's."""
    assert "erlen/cli.py" not in text
    assert "importlib" not in text
    assert "click/" not in text


# -- the five ways -------------------------------------------------------------


def test_module_colon_name() -> None:
    app = load("hello:app")
    assert app.import_name == "hello"


def test_module_colon_factory_with_literal_args() -> None:
    app = load("factory_pkg:create_app('dev', testing=True)")
    assert app.config["CONFIG_NAME"] == "dev"
    assert app.config["TESTING"] is True


def test_module_colon_factory_without_parentheses_is_called() -> None:
    app = load("factory_pkg:create_app")
    assert app.config["CONFIG_NAME"] == "default"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("hello", "hello"),  # `app`
        ("single_instance", "single_instance"),  # the only instance among globals
        ("factory_pkg", "factory_pkg"),  # create_app()
        ("make_app_mod", "made_by_make_app"),  # make_app()
    ],
)
def test_module_only(path: str, name: str) -> None:
    assert load(path).name == name


def test_application_variable(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "uses_application.py").write_text(
        "from erlen import Erlen\napplication = Erlen('via_application')\nother = Erlen('x')\n"
    )
    monkeypatch.chdir(tmp_path)
    assert load("uses_application").name == "via_application"


def test_factory_taking_script_info_gets_it() -> None:
    info = ScriptInfo(app_import_path="script_info_factory")
    app = info.load_app()
    assert app.config["SCRIPT_INFO"] is info


def test_file_path_inside_a_package() -> None:
    path = os.path.join("pkgroot", "mypkg", "web.py")
    assert prepare_import(path) == "mypkg.web"
    assert sys.path[0] == os.path.join(APPS, "pkgroot")
    app = load(path)
    assert app.import_name == "mypkg.web"
    assert app.config["GREETING"] == "hi from mypkg"


def test_file_path_with_app_name() -> None:
    assert load(os.path.join(APPS, "two_apps.py") + ":second").name == "second"


def test_prepare_import_plain_file_and_package_init() -> None:
    assert prepare_import("hello.py") == "hello"
    assert sys.path[0] == APPS
    assert prepare_import(os.path.join("factory_pkg", "__init__.py")) == "factory_pkg"


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("wsgi_project", "from_wsgi_py"),
        ("app_project", "from_app_py"),
        ("both_project", "from_wsgi_py"),
    ],
)
def test_nothing_given_uses_wsgi_py_then_app_py(
    folder: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(os.path.join(APPS, folder))
    assert load(None).name == name


def test_nothing_given_and_nothing_found(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    message = load_error(None)
    assert "Could not locate an Erlen application" in message
    assert "wsgi.py" in message and "app.py" in message
    assert str(tmp_path) in message
    assert "--app" in message


def test_load_app_is_cached() -> None:
    info = ScriptInfo(app_import_path="hello")
    assert info.load_app() is info.load_app()


def test_create_app_callback_wins() -> None:
    app = Erlen("made_here")
    info = ScriptInfo(app_import_path="hello", create_app=lambda: app)
    assert info.load_app() is app


def test_file_shadowed_by_an_already_imported_module(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "site.py").write_text("from erlen import Erlen\napp = Erlen('mine')\n")
    monkeypatch.chdir(tmp_path)
    message = load_error("site.py")
    assert "'site.py' imports as module 'site', but that name is already taken" in message
    assert "Rename your file" in message


# -- the three errors ----------------------------------------------------------


def test_module_not_found() -> None:
    message = load_error("nothere")
    assert message.startswith("Could not import 'nothere'.")
    assert "'nothere.py'" in message
    assert APPS in message
    assert "Traceback" not in message


def test_submodule_not_found_names_the_package_folder() -> None:
    message = load_error("factory_pkg.nothere")
    assert message.startswith("Could not import 'factory_pkg.nothere'.")
    assert "in package 'factory_pkg'" in message
    assert os.path.join(APPS, "factory_pkg") in message


def test_not_found_is_quiet_without_an_import_path(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert locate_app("surely_not_a_module_xyz", None, raise_if_not_found=False) is None


def test_module_raises_while_importing() -> None:
    message = load_error("raises_on_import")
    assert message.startswith("While importing 'raises_on_import', an error occurred")
    assert "Traceback (most recent call last)" in message
    assert "raises_on_import.py" in message
    assert "load_settings" in message
    assert "RuntimeError: settings file is broken" in message
    assert_no_internal_frames(message)


def test_missing_dependency_is_an_import_error_not_not_found() -> None:
    message = load_error("broken_dependency")
    assert message.startswith("While importing 'broken_dependency'")
    assert "No module named 'erlen_missing_dependency_xyz'" in message
    assert "broken_dependency.py" in message
    assert "is a dependency, install it" in message
    assert_no_internal_frames(message)


def test_syntax_error_shows_the_file_and_line(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_syntax.py").write_text("from erlen import Erlen\napp = Erlen(\n")
    monkeypatch.chdir(tmp_path)
    message = load_error("broken_syntax.py")
    assert message.startswith("While importing 'broken_syntax'")
    assert "broken_syntax.py" in message
    assert "SyntaxError" in message
    assert_no_internal_frames(message)


def test_no_app_in_module_names_what_was_tried() -> None:
    message = load_error("no_app")
    assert message.startswith("Could not locate an Erlen application in module 'no_app'")
    for tried in ("'app'", "'application'", "Erlen instance", "'create_app'", "'make_app'"):
        assert tried in message
    assert "'app' exists but is 'str'" in message
    assert "--app 'no_app:name'" in message


def test_several_apps_are_listed() -> None:
    message = load_error("two_apps")
    assert "several Erlen applications" in message
    assert "'first', 'second'" in message
    assert "--app 'two_apps:first'" in message


# -- factories and app names -----------------------------------------------------


@pytest.mark.parametrize(
    "expr",
    [
        "create_app(os.getcwd())",
        "create_app(name)",
        "create_app(__import__('os').system('true'))",
        "create_app(**settings)",
        "create_app(*['a'])",
        "create_app(testing=not_a_literal)",
        "create_app(1 + len('x'))",
    ],
)
def test_factory_args_must_be_literals(expr: str) -> None:
    with pytest.raises(NoAppException, match="only literal arguments are allowed"):
        find_app_by_string(module("factory_pkg"), expr)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("create_app(", "Failed to parse 'create_app('"),
        ("a.b", "Failed to parse 'a.b'"),
        ("mod.create_app()", "Function reference must be a simple name"),
        ("missing", "Failed to find attribute 'missing' in 'factory_pkg'"),
        ("needs_args()", "could not be called with ()"),
        ("create_app(1, 2, 3)", "could not be called with (1, 2, 3)"),
        (
            "not_an_app()",
            "A valid Erlen application was not obtained from 'factory_pkg:not_an_app()'",
        ),
        ("settings", "(got 'dict')"),
        ("settings(1)", "not a function"),
    ],
)
def test_bad_app_names(expr: str, message: str) -> None:
    with pytest.raises(NoAppException) as info:
        find_app_by_string(module("factory_pkg"), expr)
    assert message in info.value.format_message()


def test_factory_raising_shows_the_user_traceback() -> None:
    message = load_error("factory_pkg:raising_factory()")
    assert message.startswith("While calling the factory 'raising_factory'")
    assert "ValueError: factory failed in user code" in message
    assert "factory_pkg" in message
    assert_no_internal_frames(message)


def test_find_best_app_refuses_a_factory_returning_something_else(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad_factory.py").write_text("def create_app():\n    return 'nope'\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NoAppException, match="returned 'str', not an Erlen application"):
        find_best_app(module("bad_factory"))


# -- through the command line --------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("raises_on_import", "While importing 'raises_on_import'"),
        ("nothere", "Could not import 'nothere'."),
        ("no_app", "Could not locate an Erlen application in module 'no_app'"),
    ],
)
def test_cli_reports_each_error_cleanly(group: ErlenGroup, path: str, expected: str) -> None:
    result = CliRunner().invoke(group, ["--app", path, "routes"])
    assert result.exit_code == 2
    assert expected in result.output
    assert result.exception is not None and isinstance(result.exception, SystemExit)
    assert_no_internal_frames(result.output)
