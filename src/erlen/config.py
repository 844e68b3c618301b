"""The app's configuration: a dict of settings with Flask's names and defaults.

Settings load from Python objects, Python files, data files (JSON, TOML) and
prefixed environment variables, with Flask's method names and rules, so a Flask
project's configuration code runs unchanged.
"""

from __future__ import annotations

import collections.abc as cabc
import errno
import importlib
import json
import os
import types
import typing as t
from datetime import timedelta

#: Flask's settings and defaults; erlen's own additions are marked.
DEFAULT_CONFIG: dict[str, t.Any] = {
    "DEBUG": None,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": None,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "USE_X_SENDFILE": False,
    "TRUSTED_HOSTS": None,
    "SERVER_NAME": None,
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    # SECURITY: Lax, not Flask's None: the session cookie is not sent on
    # cross-site subrequests and POSTs (DESIGN.md, "Safe defaults").
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_REFRESH_EACH_REQUEST": True,
    "MAX_CONTENT_LENGTH": None,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1_000,
    "SEND_FILE_MAX_AGE_DEFAULT": None,
    "TRAP_BAD_REQUEST_ERRORS": None,
    "TRAP_HTTP_EXCEPTIONS": False,
    "EXPLAIN_TEMPLATE_LOADING": False,
    "PREFERRED_URL_SCHEME": "http",
    "TEMPLATES_AUTO_RELOAD": None,
    "MAX_COOKIE_SIZE": 4093,
    "PROVIDE_AUTOMATIC_OPTIONS": True,
}


class ConfigAttribute:
    """Makes an attribute of the app forward to one of its config keys (``app.testing``)."""

    def __init__(self, name: str, get_converter: t.Callable[[t.Any], t.Any] | None = None) -> None:
        self.__name__ = name
        self.get_converter = get_converter

    def __get__(self, obj: t.Any, owner: t.Any = None) -> t.Any:
        if obj is None:
            return self
        value = obj.config[self.__name__]
        if self.get_converter is not None:
            value = self.get_converter(value)
        return value

    def __set__(self, obj: t.Any, value: t.Any) -> None:
        obj.config[self.__name__] = value


class Config(dict[str, t.Any]):
    """A dict of settings that knows the folder relative paths start from.

    Only UPPERCASE names are taken from objects, files and mappings, so a config
    file can use lowercase names for its own helper values.
    """

    def __init__(
        self,
        root_path: str | os.PathLike[str],
        defaults: dict[str, t.Any] | None = None,
    ) -> None:
        super().__init__(defaults or {})
        self.root_path = os.fspath(root_path)

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the Python config file named by the environment variable ``variable_name``.

        Returns ``False`` when ``silent`` and the variable is unset or the file is missing.
        """
        filename = os.environ.get(variable_name)
        if not filename:
            if silent:
                return False
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set and as such"
                " configuration could not be loaded. Set this variable and make it"
                " point to a configuration file"
            )
        return self.from_pyfile(filename, silent=silent)

    def from_prefixed_env(
        self,
        prefix: str = "ERLEN",
        *,
        loads: cabc.Callable[[str], t.Any] = json.loads,
    ) -> bool:
        """Load environment variables named ``{prefix}_KEY`` into ``KEY``.

        Values are decoded with ``loads`` (JSON: ``ERLEN_DEBUG=true`` is ``True``)
        and kept as strings when that fails. ``__`` in a name sets a nested key:
        ``ERLEN_DB__HOST`` sets ``config["DB"]["HOST"]``. Variables are applied
        sorted by name, so the result does not depend on the environment's order.
        """
        prefixes = [f"{prefix}_"]
        if prefix == "ERLEN":
            # COMPAT: a Flask project's FLASK_* variables keep working; ERLEN_* wins,
            # because it is applied last.
            prefixes.insert(0, "FLASK_")
        environ = os.environ
        for full_prefix in prefixes:
            for name in sorted(environ):
                if not name.startswith(full_prefix):
                    continue
                key = name[len(full_prefix) :]
                if not key:
                    continue
                raw = environ[name]
                try:
                    value = loads(raw)
                except Exception:
                    value = raw  # not JSON (or not whatever ``loads`` reads): keep the string
                self._set_nested(name, key, value)
        return True

    def _set_nested(self, name: str, key: str, value: t.Any) -> None:
        # Set ``A__B__C`` as self["A"]["B"]["C"], creating dicts on the way.
        *parents, leaf = key.split("__")
        current: t.Any = self
        path = ""
        for part in parents:
            path = f"{path}[{part!r}]"
            if part not in current:
                current[part] = {}
            current = current[part]
            if not isinstance(current, cabc.MutableMapping):
                raise TypeError(
                    f"The environment variable {name!r} sets a nested key, but"
                    f" config{path} is a {type(current).__name__}, not a dict."
                    f" Make config{path} a dict or rename the variable."
                )
        current[leaf] = value

    def from_pyfile(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        """Run the Python file ``filename`` (relative to :attr:`root_path`) and load its
        UPPERCASE names.

        The file runs in a fresh module namespace, as a module would be imported.
        Returns ``False`` when ``silent`` and the file is missing.
        """
        path = os.path.join(self.root_path, os.fspath(filename))
        module = types.ModuleType("config")
        module.__file__ = path
        try:
            with open(path, "rb") as f:
                source = f.read()
        except OSError as e:
            if silent and e.errno in _MISSING_ERRNOS:
                return False
            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise
        exec(compile(source, path, "exec"), module.__dict__)
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Load the UPPERCASE attributes of ``obj``: a module, a class, an instance,
        or an import string such as ``"pkg.settings:Production"``.
        """
        if isinstance(obj, str):
            obj = import_string(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: cabc.Callable[[t.IO[t.Any]], cabc.Mapping[str, t.Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load the UPPERCASE keys of a data file read with ``load``.

        ``filename`` is relative to :attr:`root_path`. For example
        ``from_file("config.json", load=json.load)`` or
        ``from_file("config.toml", load=tomllib.load, text=False)``.
        Returns ``False`` when ``silent`` and the file is missing.
        """
        path = os.path.join(self.root_path, os.fspath(filename))
        try:
            f = open(path, "r" if text else "rb")  # closed by the with below
        except OSError as e:
            if silent and e.errno in _MISSING_ERRNOS:
                return False
            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise
        with f:
            data = load(f)
        return self.from_mapping(data)

    def from_mapping(
        self, mapping: cabc.Mapping[str, t.Any] | None = None, **kwargs: t.Any
    ) -> bool:
        """Load the UPPERCASE keys of ``mapping`` and of the keyword arguments."""
        items: dict[str, t.Any] = {}
        if mapping is not None:
            items.update(mapping)
        items.update(kwargs)
        for key, value in items.items():
            if isinstance(key, str) and key.isupper():
                self[key] = value
        return True

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, t.Any]:
        """The settings whose names start with ``namespace``, as a new dict.

        ``get_namespace("IMAGE_STORE_")`` turns ``IMAGE_STORE_PATH`` into ``path``,
        ready to pass as keyword arguments.
        """
        result: dict[str, t.Any] = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            name = key[len(namespace) :] if trim_namespace else key
            if lowercase:
                name = name.lower()
            result[name] = value
        return result

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


# A missing file (or a folder in its place) is what ``silent=True`` forgives.
_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.EISDIR, errno.ENOTDIR})


def import_string(import_name: str) -> t.Any:
    """The object named by ``"pkg.module:attr"``, ``"pkg.module.attr"`` or ``"pkg.module"``.

    Raises :class:`ImportError` naming the string when nothing by that name exists.
    """
    name = import_name.strip()
    if ":" in name:
        module_name, _, attr = name.partition(":")
        module = importlib.import_module(module_name)
        try:
            return _getattr_path(module, attr)
        except AttributeError:
            raise ImportError(
                f"Could not import {import_name!r}: module {module_name!r} has no"
                f" attribute {attr!r}. Check the name after the ':'."
            ) from None
    try:
        return importlib.import_module(name)
    except ImportError as e:
        module_name, dot, attr = name.rpartition(".")
        if not dot or e.name not in (name, None):
            # Not a dotted name, or a module *inside* the target failed to import.
            raise
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError(
            f"Could not import {import_name!r}: module {module_name!r} has no attribute"
            f" {attr!r}. Check the spelling, or use 'module:attribute'."
        ) from None


def _getattr_path(obj: t.Any, path: str) -> t.Any:
    # "Outer.Inner" after a ':' walks nested attributes.
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj
