"""The architecture, checked: one-way layers, and no Werkzeug or Flask anywhere."""

from __future__ import annotations

import ast
import os
import pkgutil
import subprocess
import sys

import erlen

SRC = os.path.dirname(erlen.__file__)


def _modules() -> list[str]:
    names = ["erlen"]
    for info in pkgutil.walk_packages([SRC], prefix="erlen."):
        names.append(info.name)
    return names


def _imports(path: str) -> set[str]:
    """Absolute module names a file imports at module level or in functions."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    package = os.path.relpath(os.path.dirname(path), os.path.dirname(SRC)).replace(os.sep, ".")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _files(subpackage: str) -> list[str]:
    root = os.path.join(SRC, subpackage)
    return [
        os.path.join(dirpath, name)
        for dirpath, _, names in os.walk(root)
        for name in names
        if name.endswith(".py")
    ]


def test_http_and_routing_import_no_upper_layer() -> None:
    forbidden_everywhere = ("werkzeug", "flask", "asyncio", "socket", "contextvars")
    for layer, allowed in (("http", ("erlen.http",)), ("routing", ("erlen.http", "erlen.routing"))):
        for path in _files(layer):
            for module in _imports(path):
                top = module.split(".")[0]
                assert top not in forbidden_everywhere, f"{path} imports {module}"
                if top == "erlen":
                    assert module.startswith(allowed), f"{path} imports {module}"


def test_globals_imports_nothing_from_erlen_at_runtime() -> None:
    path = os.path.join(SRC, "globals.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"globals.py imports .{node.module} at runtime")


def test_no_werkzeug_or_flask_in_a_fresh_interpreter() -> None:
    code = (
        "import importlib, pkgutil, sys, erlen\n"
        f"for info in pkgutil.walk_packages({[SRC]!r}, prefix='erlen.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('werkzeug', 'flask'))\n"
        "print(len([m for m in sys.modules if m.startswith('erlen')]), bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    count, bad = out.split(" ", 1)
    assert int(count) >= len(_modules()) - 1
    assert bad.strip() == "[]"


def test_importing_a_submodule_does_not_load_the_framework() -> None:
    code = (
        "import sys, erlen.dev.serving, erlen.http.parsing\n"
        "print(sorted(m for m in sys.modules if m.startswith('erlen.') and m.count('.') == 1))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert out.strip() == "['erlen.dev', 'erlen.http']"


def test_public_names_resolve() -> None:
    import erlen as package

    for name in package.__all__:
        assert getattr(package, name) is not None, name
    assert package.Flask is package.Erlen
    assert "Flask" in dir(package)
