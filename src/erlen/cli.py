"""The ``erlen`` command: app discovery, ``.env`` loading, and ``run``/``shell``/``routes``.

Flask's ``flask.cli`` under erlen's name: the same classes, options and
discovery rules, reading ``ERLEN_*`` and ``FLASK_*`` environment variables alike.
"""

from __future__ import annotations

import ast
import collections.abc as cabc
import importlib
import importlib.metadata
import inspect
import os
import platform
import re
import ssl
import sys
import traceback
import typing as t
from functools import update_wrapper

import click
import click.core
import click.testing

from .app import Erlen
from .ctx import has_app_context

if t.TYPE_CHECKING:
    # click >= 8.2 types ParamType as a generic; older versions can't subscript it.
    _ParamTypeBase = click.ParamType[t.Any, t.Any]
else:
    _ParamTypeBase = click.ParamType

F = t.TypeVar("F", bound=cabc.Callable[..., t.Any])

#: Names tried, in order, for the app itself and for a factory (``erlen --app module``).
APP_NAMES = ("app", "application")
FACTORY_NAMES = ("create_app", "make_app")


class NoAppException(click.UsageError):
    """The app could not be found, imported or created; the message says which and why."""


# -- app discovery -------------------------------------------------------------

_THIS_FILE = os.path.normcase(os.path.abspath(__file__))
_IMPORTLIB_DIR = os.path.normcase(os.path.dirname(os.path.abspath(importlib.__file__))) + os.sep


def _is_internal_frame(filename: str) -> bool:
    # Frames of the import system and of this module: noise in a user's traceback.
    if filename.startswith("<frozen importlib"):
        return True
    path = os.path.normcase(os.path.abspath(filename))
    return path == _THIS_FILE or path.startswith(_IMPORTLIB_DIR)


def _has_user_frames(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    return any(not _is_internal_frame(frame.filename) for frame in frames)


def _trim(te: traceback.TracebackException, seen: set[int]) -> None:
    if id(te) in seen:
        return
    seen.add(id(te))
    te.stack = traceback.StackSummary.from_list(
        [frame for frame in te.stack if not _is_internal_frame(frame.filename)]
    )
    for sub in (te.__cause__, te.__context__, *(te.exceptions or ())):
        if sub is not None:
            _trim(sub, seen)


def _user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` with erlen's and importlib's frames left out."""
    te = traceback.TracebackException.from_exception(exc)
    _trim(te, set())
    return "".join(te.format()).rstrip()


def _search_dir() -> str:
    # Where a top-level module name is looked up first: sys.path[0], the cwd for ''.
    first = sys.path[0] if sys.path else ""
    return os.path.abspath(first or os.curdir)


def _not_found_message(module_name: str, missing: str) -> str:
    parent, _, leaf = missing.rpartition(".")
    if parent and parent in sys.modules:
        parent_file = getattr(sys.modules[parent], "__file__", None) or "?"
        where = f"in package {parent!r} ({os.path.dirname(parent_file)})"
    else:
        where = f"in {_search_dir()!r} or anywhere else on sys.path"
    return (
        f"Could not import {module_name!r}. There is no '{leaf}.py' and no '{leaf}/' package"
        f" {where}. Check the name, run the command from the project's folder, or pass the"
        " file itself: --app path/to/app.py"
    )


def prepare_import(path: str) -> str:
    """Put the package root of a file or module path on ``sys.path``; return its dotted name.

    ``src/pkg/views.py`` with ``src/pkg/__init__.py`` gives ``pkg.views`` and
    puts ``src`` first on ``sys.path``, so the app imports as its package would.
    """
    path = os.path.realpath(path)
    base, ext = os.path.splitext(path)
    if ext == ".py":
        path = base
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)
    parts: list[str] = []
    while True:
        path, name = os.path.split(path)
        parts.append(name)
        if not os.path.exists(os.path.join(path, "__init__.py")):
            break
    if not sys.path or sys.path[0] != path:
        sys.path.insert(0, path)
    return ".".join(reversed(parts))


def _prepare_checked(path: str) -> str:
    """:func:`prepare_import`, refusing a file whose module name is already taken."""
    import_name = prepare_import(path)
    existing = sys.modules.get(import_name)
    real = os.path.realpath(path)
    if os.path.isdir(real):
        real = os.path.join(real, "__init__.py")
    if existing is None or not os.path.isfile(real):
        return import_name
    loaded = getattr(existing, "__file__", None)
    if loaded is None or os.path.realpath(loaded) != real:
        where = loaded or "a built-in module"
        raise NoAppException(
            f"{path!r} imports as module {import_name!r}, but that name is already taken by"
            f" {where}, loaded before your file. Rename your file (or package) so it doesn't"
            " shadow another module."
        )
    return import_name


def _is_app(value: object) -> bool:
    return isinstance(value, Erlen)


def _call_factory(
    module: t.Any,
    name: str,
    factory: cabc.Callable[..., t.Any],
    args: list[t.Any],
    kwargs: dict[str, t.Any],
    script_info: ScriptInfo | None = None,
) -> t.Any:
    """Call an app factory, keeping "wrong arguments" apart from "the factory raised"."""
    try:
        signature: inspect.Signature | None = inspect.signature(factory)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as e:
            if not args and not kwargs and "script_info" in signature.parameters:
                # COMPAT: Flask < 2.0 passed the ScriptInfo to factories asking for it.
                kwargs = {"script_info": script_info or ScriptInfo()}
            else:
                given = ", ".join(
                    [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
                )
                raise NoAppException(
                    f"The factory {name!r} in module {module.__name__!r} could not be called"
                    f" with ({given}): {e}. Pass its arguments as literals, for example"
                    f" --app '{module.__name__}:{name}(\"value\", key=True)'."
                ) from None
    try:
        return factory(*args, **kwargs)
    except Exception as e:
        raise NoAppException(
            f"While calling the factory {name!r} in module {module.__name__!r}, an error"
            f" occurred in your code:\n\n{_user_traceback(e)}\n\nFix the error and run the"
            " command again."
        ) from e


def find_best_app(module: t.Any, *, script_info: ScriptInfo | None = None) -> Erlen:
    """Find the app in ``module``: ``app``, ``application``, the only instance, or a factory."""
    for attr in APP_NAMES:
        value = getattr(module, attr, None)
        if _is_app(value):
            return t.cast(Erlen, value)
    found = [(k, v) for k, v in vars(module).items() if _is_app(v)]
    if len(found) == 1:
        return t.cast(Erlen, found[0][1])
    if len(found) > 1:
        names = ", ".join(repr(k) for k, _ in found)
        raise NoAppException(
            f"Detected several Erlen applications in module {module.__name__!r}: {names}."
            f" Pick one with --app '{module.__name__}:{found[0][0]}'."
        )
    for attr in FACTORY_NAMES:
        factory = getattr(module, attr, None)
        if inspect.isfunction(factory):
            app = _call_factory(module, attr, factory, [], {}, script_info)
            if _is_app(app):
                return t.cast(Erlen, app)
            raise NoAppException(
                f"The factory {attr!r} in module {module.__name__!r} returned"
                f" {type(app).__name__!r}, not an Erlen application. Make it return the app."
            )
    notes = ""
    for attr in APP_NAMES:
        if hasattr(module, attr):
            value = getattr(module, attr)
            notes += f" ({attr!r} exists but is {type(value).__name__!r}, not an Erlen app.)"
    where = getattr(module, "__file__", None) or module.__name__
    raise NoAppException(
        f"Could not locate an Erlen application in module {module.__name__!r} ({where})."
        " Tried: a variable named 'app' or 'application', a single Erlen instance among"
        " the module's globals, and a factory named 'create_app' or 'make_app'."
        f"{notes} Name the app or its factory with"
        f" --app '{module.__name__}:name' or --app '{module.__name__}:create_app()'."
    )


def _literal(node: ast.expr, app_name: str) -> t.Any:
    # SECURITY: only literals; --app is text, and must never run arbitrary code.
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise NoAppException(
            f"Failed to parse the arguments in {app_name!r}: only literal arguments are"
            " allowed (strings, numbers, booleans, None, and tuples, lists, dicts or sets of"
            " them). Compute other values inside the factory."
        ) from None


def find_app_by_string(
    module: t.Any, app_name: str, *, script_info: ScriptInfo | None = None
) -> Erlen:
    """Get the app named by ``name`` or ``factory(args...)`` (literal args only) in ``module``."""
    try:
        expr = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call. Use"
            " 'name' or 'factory(\"arg\", key=1)'."
        ) from None
    args: list[t.Any] = []
    kwargs: dict[str, t.Any] = {}
    if isinstance(expr, ast.Name):
        name = expr.id
        called = False
    elif isinstance(expr, ast.Call):
        if not isinstance(expr.func, ast.Name):
            raise NoAppException(
                f"Function reference must be a simple name: {app_name!r}. Import the"
                " factory into the module and name it directly."
            )
        name = expr.func.id
        called = True
        for arg in expr.args:
            args.append(_literal(arg, app_name))
        for kw in expr.keywords:
            if kw.arg is None:
                _literal(ast.Starred(value=kw.value), app_name)
            kwargs[t.cast(str, kw.arg)] = _literal(kw.value, app_name)
    else:
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call. Use"
            " 'name' or 'factory(\"arg\", key=1)'."
        )
    try:
        attr = getattr(module, name)
    except AttributeError:
        raise NoAppException(
            f"Failed to find attribute {name!r} in {module.__name__!r}"
            f" ({getattr(module, '__file__', None) or module.__name__}). Check the name after"
            " the colon in --app."
        ) from None
    if inspect.isfunction(attr):
        app = _call_factory(module, name, attr, args, kwargs, script_info)
    elif called:
        raise NoAppException(
            f"{name!r} in {module.__name__!r} is {type(attr).__name__!r}, not a function,"
            " so it cannot be called with arguments. Drop the parentheses."
        )
    else:
        app = attr
    if _is_app(app):
        return t.cast(Erlen, app)
    raise NoAppException(
        f"A valid Erlen application was not obtained from '{module.__name__}:{app_name}'"
        f" (got {type(app).__name__!r}). Point --app at an Erlen instance or a factory"
        " returning one."
    )


@t.overload
def locate_app(
    module_name: str,
    app_name: str | None,
    raise_if_not_found: t.Literal[True] = True,
    *,
    script_info: ScriptInfo | None = None,
) -> Erlen: ...


@t.overload
def locate_app(
    module_name: str,
    app_name: str | None,
    raise_if_not_found: bool = ...,
    *,
    script_info: ScriptInfo | None = None,
) -> Erlen | None: ...


def locate_app(
    module_name: str,
    app_name: str | None,
    raise_if_not_found: bool = True,
    *,
    script_info: ScriptInfo | None = None,
) -> Erlen | None:
    """Import ``module_name`` and find the app in it (by ``app_name`` when given).

    Three failures stay apart: the module doesn't exist, it raised while
    importing (the user's traceback is shown), or it holds no app.
    """
    try:
        importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        missing = e.name or ""
        is_ours = missing == module_name or module_name.startswith(missing + ".")
        if missing and is_ours and not _has_user_frames(e):
            if not raise_if_not_found:
                return None
            raise NoAppException(_not_found_message(module_name, missing)) from None
        raise _import_failed(module_name, e) from e
    except Exception as e:
        raise _import_failed(module_name, e) from e
    module = sys.modules[module_name]
    if app_name is None:
        return find_best_app(module, script_info=script_info)
    return find_app_by_string(module, app_name, script_info=script_info)


def _import_failed(module_name: str, exc: BaseException) -> NoAppException:
    hint = "Fix the error above and run the command again."
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        hint = (
            f"If {exc.name!r} is a dependency, install it into the environment running"
            f" erlen ({sys.executable}); otherwise fix the import above."
        )
    return NoAppException(
        f"While importing {module_name!r}, an error occurred in your code:\n\n"
        f"{_user_traceback(exc)}\n\n{hint}"
    )


# -- environment ---------------------------------------------------------------

_TRUTHY_OFF = ("", "0", "false", "no", "off")
_env_note_shown = False


def get_debug_flag() -> bool:
    """Debug mode from ``ERLEN_DEBUG``/``FLASK_DEBUG``, else ``ERLEN_ENV``/``FLASK_ENV``."""
    global _env_note_shown
    for name in ("ERLEN_DEBUG", "FLASK_DEBUG"):
        value = os.environ.get(name)
        if value:
            return value.lower() not in _TRUTHY_OFF
    for name in ("ERLEN_ENV", "FLASK_ENV"):
        if os.environ.get(name) == "development":
            if not _env_note_shown:
                _env_note_shown = True
                click.secho(
                    f" * Note: {name}=development turns debug mode on. It is the old"
                    " spelling; use 'erlen --debug run' or ERLEN_DEBUG=1 instead.",
                    fg="yellow",
                    err=True,
                )
            return True
    return False


def get_load_dotenv(default: bool = True) -> bool:
    """Whether to load ``.env`` files: ``ERLEN_SKIP_DOTENV``/``FLASK_SKIP_DOTENV`` turn it off."""
    value = os.environ.get("ERLEN_SKIP_DOTENV") or os.environ.get("FLASK_SKIP_DOTENV")
    if not value:
        return default
    return value.lower() in _TRUTHY_OFF


#: Default env files, lowest precedence first.
DOTENV_DEFAULTS = (".flaskenv", ".erlenenv", ".env")


def _find_upwards(name: str) -> str | None:
    path = os.getcwd()
    while True:
        candidate = os.path.join(path, name)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def load_dotenv(path: str | os.PathLike[str] | None = None, load_defaults: bool = True) -> bool:
    """Load env files into ``os.environ`` without overriding variables already set.

    Precedence: the real environment, then ``path``, then ``.env``, then
    ``.erlenenv`` and ``.flaskenv`` (each found by walking up from the cwd).
    Returns whether any file set a value. Needs python-dotenv.
    """
    try:
        import dotenv
    except ImportError:
        if path is not None or any(_find_upwards(n) for n in DOTENV_DEFAULTS):
            click.secho(
                " * Tip: There are .env files present. Install python-dotenv to use them"
                " (pip install python-dotenv).",
                fg="yellow",
                err=True,
            )
        return False
    data: dict[str, str | None] = {}
    if load_defaults:
        for name in DOTENV_DEFAULTS:
            found = _find_upwards(name)
            if found:
                data.update(dotenv.dotenv_values(found, encoding="utf-8"))
    if path is not None and os.path.isfile(path):
        data.update(dotenv.dotenv_values(path, encoding="utf-8"))
    for key, value in data.items():
        if key in os.environ or value is None:
            continue
        os.environ[key] = value
    return bool(data)


# -- script info and app context -----------------------------------------------


class ScriptInfo:
    """What the CLI knows about the app to load, and the app once loaded.

    Commands get it through :func:`pass_script_info` or ``ctx.obj``; the
    ``run`` command hands :meth:`load_app` to the dev server so the app can
    be (re)loaded lazily in the serving process.
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: cabc.Callable[..., Erlen] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        #: ``--app`` (or ``ERLEN_APP``/``FLASK_APP``): ``module``, ``module:name``, a file.
        self.app_import_path = app_import_path
        #: A function returning the app; used instead of the import path when given.
        self.create_app = create_app
        #: Where the import path came from (``--app``, ``ERLEN_APP``, ...), for messages.
        self.app_import_source: str | None = None
        #: Free space for commands and extensions.
        self.data: dict[t.Any, t.Any] = {}
        self.set_debug_flag = set_debug_flag
        self.load_dotenv_defaults = get_load_dotenv(load_dotenv_defaults)
        self._loaded_app: Erlen | None = None

    def load_app(self) -> Erlen:
        """Load (once) and return the app, or raise :class:`NoAppException` saying why."""
        if self._loaded_app is not None:
            return self._loaded_app
        app: Erlen | None = None
        if self.create_app is not None:
            app = self.create_app()
        elif self.app_import_path:
            path, name = (re.split(r":(?![\\/])", self.app_import_path, maxsplit=1) + [None])[:2]
            import_name = _prepare_checked(t.cast(str, path))
            app = locate_app(import_name, name, script_info=self)
        else:
            for filename in ("wsgi.py", "app.py"):
                base = filename[:-3]
                if os.path.isfile(filename) or os.path.isfile(os.path.join(base, "__init__.py")):
                    import_name = _prepare_checked(filename if os.path.isfile(filename) else base)
                    app = locate_app(import_name, None, raise_if_not_found=False, script_info=self)
                    if app is not None:
                        break
        if app is None:
            raise NoAppException(
                "Could not locate an Erlen application: no --app option, no ERLEN_APP or"
                " FLASK_APP environment variable, and no 'wsgi.py' or 'app.py' in the current"
                f" directory ({os.getcwd()}). Pass --app module:name (or --app path/to/app.py),"
                " or run the command from the project's folder."
            )
        if self.set_debug_flag:
            app.debug = get_debug_flag()
        self._loaded_app = app
        return app

    def display_path(self) -> str | None:
        """The import path for messages: the given one, or the conventional file found."""
        if self.app_import_path:
            return self.app_import_path
        for name in ("wsgi", "app"):
            if os.path.isfile(name + ".py") or os.path.isfile(os.path.join(name, "__init__.py")):
                return name
        return None


pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(f: F) -> F:
    """Run the command inside the app's context, loading the app if none is active."""

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if not has_app_context():
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return t.cast(F, update_wrapper(decorator, f))


class AppGroup(click.Group):
    """A click group whose commands run in the app context (``app.cli``).

    ``command(with_appcontext=False)`` opts out; ``group()`` makes more AppGroups.
    """

    def command(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Like :meth:`click.Group.command`, but wraps the callback in :func:`with_appcontext`."""
        if len(args) == 1 and callable(args[0]) and not kwargs:
            # `@app.cli.command` without parentheses.
            return self.command()(args[0])
        wrap = kwargs.pop("with_appcontext", True)

        def decorator(f: cabc.Callable[..., t.Any]) -> click.Command:
            if wrap:
                f = with_appcontext(f)
            return t.cast(click.Command, click.Group.command(self, *args, **kwargs)(f))

        return decorator

    def group(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Like :meth:`click.Group.group`, but the new group is an :class:`AppGroup` too."""
        kwargs.setdefault("cls", AppGroup)
        return click.Group.group(self, *args, **kwargs)


# -- the erlen group -----------------------------------------------------------


def _python_version_line() -> str:
    return f"Python {platform.python_version()}"


def _erlen_version() -> str:
    try:
        return importlib.metadata.version("erlen")
    except importlib.metadata.PackageNotFoundError:
        from . import __version__

        return __version__


def get_version(ctx: click.Context, param: click.Parameter, value: t.Any) -> None:
    """``--version``: print the Python and erlen versions, then exit."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"{_python_version_line()}\nErlen {_erlen_version()}", color=ctx.color)
    ctx.exit()


def _env_file_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    info = ctx.ensure_object(ScriptInfo)
    if value is not None:
        try:
            import dotenv  # noqa: F401
        except ImportError:
            raise click.BadParameter(
                "python-dotenv must be installed to load an env file. Install it with"
                " 'pip install python-dotenv'.",
                ctx=ctx,
                param=param,
            ) from None
    if value is not None or info.load_dotenv_defaults:
        load_dotenv(value, load_defaults=info.load_dotenv_defaults)
    return value


def _app_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    info = ctx.ensure_object(ScriptInfo)
    info.app_import_path = value
    source = ctx.get_parameter_source(param.name or "")
    if source is click.core.ParameterSource.ENVIRONMENT:
        info.app_import_source = "ERLEN_APP" if os.environ.get("ERLEN_APP") else "FLASK_APP"
    else:
        info.app_import_source = "--app"
    return value


def _debug_callback(ctx: click.Context, param: click.Parameter, value: bool) -> bool | None:
    source = ctx.get_parameter_source(param.name or "")
    if source in (
        None,
        click.core.ParameterSource.DEFAULT,
        click.core.ParameterSource.DEFAULT_MAP,
    ):
        return None
    # The app's config reads the environment, so set it rather than a flag here.
    flag = "1" if value else "0"
    os.environ["ERLEN_DEBUG"] = flag
    os.environ["FLASK_DEBUG"] = flag
    return value


def _make_env_file_option() -> click.Option:
    return click.Option(
        ["-e", "--env-file"],
        type=click.Path(exists=True, dir_okay=False),
        help="Load environment variables from this file, before .env and .erlenenv/.flaskenv."
        " Variables already set are not overridden. Needs python-dotenv.",
        is_eager=True,
        expose_value=False,
        callback=_env_file_callback,
    )


def _make_app_option() -> click.Option:
    return click.Option(
        ["-A", "--app"],
        metavar="IMPORT",
        envvar=["ERLEN_APP", "FLASK_APP"],
        help="The app to load: 'module:name', 'module:factory(args)', 'module', or a path"
        " to a file. Default: ERLEN_APP/FLASK_APP, else 'wsgi.py' or 'app.py'.",
        is_eager=True,
        expose_value=False,
        callback=_app_callback,
    )


def _make_debug_option() -> click.Option:
    return click.Option(
        ["--debug/--no-debug"],
        help="Set debug mode (sets ERLEN_DEBUG so the app sees it).",
        expose_value=False,
        callback=_debug_callback,
    )


class ErlenGroup(AppGroup):
    """The ``erlen`` command group: discovery options, built-in and plugin commands, ``app.cli``.

    :param add_default_commands: add ``run``, ``shell`` and ``routes``.
    :param create_app: a function returning the app, instead of discovery.
    :param add_version_option: add ``--version``.
    :param load_dotenv: load ``.env``, ``.erlenenv`` and ``.flaskenv``.
    :param set_debug_flag: set ``app.debug`` from the environment after loading.
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: cabc.Callable[..., Erlen] | None = None,
        add_version_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: t.Any,
    ) -> None:
        params = list(extra.pop("params", None) or ())
        # --env-file comes first so that it is processed before --app reads the environment.
        self._env_file_option = _make_env_file_option()
        self._app_option = _make_app_option()
        params.extend((self._env_file_option, self._app_option, _make_debug_option()))
        if add_version_option:
            params.append(
                click.Option(
                    ["--version"],
                    help="Show the Python and erlen versions.",
                    expose_value=False,
                    callback=get_version,
                    is_flag=True,
                    is_eager=True,
                )
            )
        context_settings = dict(extra.pop("context_settings", None) or {})
        context_settings.setdefault("auto_envvar_prefix", "ERLEN")
        super().__init__(params=params, context_settings=context_settings, **extra)
        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag
        if add_default_commands:
            self.add_command(run_command)
            self.add_command(shell_command)
            self.add_command(routes_command)
        self._loaded_plugin_commands = False

    def _load_plugin_commands(self) -> None:
        if self._loaded_plugin_commands:
            return
        self._loaded_plugin_commands = True
        for ep in importlib.metadata.entry_points(group="erlen.commands"):
            try:
                command = ep.load()
            except Exception:
                click.secho(
                    f"Error: could not load the plugin command {ep.name!r} ({ep.value}):\n"
                    f"{_user_traceback(sys.exc_info()[1] or Exception())}\n",
                    err=True,
                    fg="red",
                )
                continue
            self.add_command(command, ep.name)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """A built-in or plugin command, else one from the app's ``app.cli``."""
        self._load_plugin_commands()
        rv = super().get_command(ctx, name)
        if rv is not None:
            return rv
        info = ctx.ensure_object(ScriptInfo)
        try:
            app = info.load_app()
        except NoAppException as e:
            # Keep the reason: resolve_command reports it instead of "No such command".
            ctx.meta["erlen.load_error"] = e
            return None
        app_cli = getattr(app, "cli", None)
        if app_cli is None:
            return None
        return t.cast(click.Command | None, app_cli.get_command(ctx, name))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Like click's, but an unknown command caused by a failed app load says so.

        A command from ``app.cli`` runs in the app context even without
        ``with_appcontext``. The context is pushed here, not in :meth:`get_command`,
        because help listings call that one and would never pop it.
        """
        try:
            name, command, rest = super().resolve_command(ctx, args)
        except click.UsageError:
            error = ctx.meta.get("erlen.load_error")
            if error is None:
                raise
            raise NoAppException(
                f"No such command {args[0]!r}. It may come from the app, which could not be"
                f" loaded:\n\n{error.format_message()}"
            ) from error
        if command is not None and command not in self.commands.values():
            if not has_app_context():
                app = ctx.ensure_object(ScriptInfo).load_app()
                ctx.with_resource(app.app_context())
        return name, command, rest

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in, plugin and app commands; an app load error is printed, not swallowed."""
        self._load_plugin_commands()
        rv = set(super().list_commands(ctx))
        info = ctx.ensure_object(ScriptInfo)
        try:
            app_cli = getattr(info.load_app(), "cli", None)
            if app_cli is not None:
                rv.update(app_cli.list_commands(ctx))
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        except Exception:
            click.secho(f"{traceback.format_exc()}\n", err=True, fg="red")
        return sorted(rv)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        """Make the context with a :class:`ScriptInfo` as ``obj``."""
        # COMPAT: a module-level app.run() in the user's file must not start a second server.
        os.environ["ERLEN_RUN_FROM_CLI"] = "true"
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """With no arguments, still read the env file and ``--app`` so help lists app commands."""
        if not args and self.no_args_is_help:
            self._env_file_option.handle_parse_result(ctx, {}, [])
            self._app_option.handle_parse_result(ctx, {}, [])
        return super().parse_args(ctx, args)


#: Flask's name for :class:`ErlenGroup`.
FlaskGroup = ErlenGroup


# -- run -----------------------------------------------------------------------


def _envvars(command: str, option: str) -> list[str]:
    return [f"ERLEN_{command}_{option}", f"FLASK_{command}_{option}"]


def _import_string(name: str) -> t.Any:
    # "pkg.module:attr" or "pkg.module.attr"; None when it can't be imported.
    module_name, _, attr = name.partition(":")
    if not attr:
        module_name, _, attr = name.rpartition(".")
    if not module_name or not attr:
        return None
    try:
        return getattr(importlib.import_module(module_name), attr, None)
    except Exception:
        return None


class CertParamType(_ParamTypeBase):
    """``--cert``: a certificate file, ``adhoc``, or the import path of an ``SSLContext``."""

    name = "path"

    def __init__(self) -> None:
        self.path_type = click.Path(exists=True, dir_okay=False, resolve_path=True)

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        if isinstance(value, ssl.SSLContext):
            return value
        try:
            return self.path_type(value, param, ctx)
        except click.BadParameter:
            text = click.STRING(value, param, ctx)
            if text.lower() == "adhoc":
                try:
                    import cryptography  # noqa: F401
                except ImportError:
                    raise click.BadParameter(
                        "Using ad-hoc certificates requires the cryptography library. Install"
                        " it with 'pip install cryptography' (or 'pip install erlen[tls]'), or"
                        " pass a certificate file and --key.",
                        ctx,
                        param,
                    ) from None
                return "adhoc"
            obj = _import_string(text)
            if isinstance(obj, ssl.SSLContext):
                return obj
            raise


def _validate_key(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    # --key goes with a certificate file; fold the pair into ``cert``.
    cert = ctx.params.get("cert")
    is_adhoc = cert == "adhoc"
    is_context = isinstance(cert, ssl.SSLContext)
    if value is not None:
        if is_adhoc:
            raise click.BadParameter(
                'When "--cert" is "adhoc", "--key" is not used. Drop --key.', ctx, param
            )
        if is_context:
            raise click.BadParameter(
                'When "--cert" is an SSLContext object, "--key" is not used. Drop --key.',
                ctx,
                param,
            )
        if not cert:
            raise click.BadParameter(
                '"--cert" must also be specified: pass the certificate file.', ctx, param
            )
        ctx.params["cert"] = (cert, value)
    elif cert and not (is_adhoc or is_context):
        raise click.BadParameter(
            'Required when using "--cert": pass the private key file.', ctx, param
        )
    return value


class SeparatedPathType(click.Path):
    """Paths separated by ``os.pathsep`` (``:``, or ``;`` on Windows); globs pass through."""

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        if isinstance(value, list | tuple):
            items = list(value)
        else:
            items = [item for item in self.split_envvar_value(value) if item]
        return [super(SeparatedPathType, self).convert(item, param, ctx) for item in items]


def show_server_banner(
    debug: bool | None, app_import_path: str | None, source: str | None = None
) -> None:
    """Print which app is served and whether debug mode is on (once, not in the reloaded child)."""
    from .dev.run import is_running_from_reloader

    # The reloader re-runs the command in a serving child; the parent printed this.
    if is_running_from_reloader():
        return
    if app_import_path is not None:
        via = f" (from {source})" if source else ""
        click.echo(f" * Serving Erlen app '{app_import_path}'{via}")
    if debug is not None:
        click.echo(f" * Debug mode: {'on' if debug else 'off'}")


@click.command("run", short_help="Run a development server.")
@click.option(
    "--host",
    "-h",
    default="127.0.0.1",
    envvar=_envvars("RUN", "HOST"),
    show_default=True,
    help="The interface to bind to.",
)
@click.option(
    "--port",
    "-p",
    default=5000,
    envvar=_envvars("RUN", "PORT"),
    show_default=True,
    help="The port to bind to.",
)
@click.option(
    "--cert",
    type=CertParamType(),
    envvar=_envvars("RUN", "CERT"),
    is_eager=True,
    help="A certificate file for HTTPS, or 'adhoc' for a throwaway one (needs cryptography).",
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    envvar=_envvars("RUN", "KEY"),
    callback=_validate_key,
    expose_value=False,
    help="The key file to use with --cert.",
)
@click.option(
    "--reload/--no-reload",
    default=None,
    envvar=_envvars("RUN", "RELOAD"),
    help="Restart when files change. Default: on in debug mode.",
)
@click.option(
    "--debugger/--no-debugger",
    default=None,
    envvar=_envvars("RUN", "DEBUGGER"),
    help="Show the interactive debugger on errors. Default: on in debug mode.",
)
@click.option(
    "--with-threads/--without-threads",
    default=True,
    envvar=_envvars("RUN", "WITH_THREADS"),
    help="Handle each request in a thread.",
)
@click.option(
    "--extra-files",
    default=None,
    type=SeparatedPathType(),
    envvar=_envvars("RUN", "EXTRA_FILES"),
    help=f"More files (or globs) the reloader watches, separated by {os.pathsep!r}.",
)
@click.option(
    "--exclude-patterns",
    default=None,
    type=SeparatedPathType(),
    envvar=_envvars("RUN", "EXCLUDE_PATTERNS"),
    help=f"Glob patterns the reloader ignores, separated by {os.pathsep!r}.",
)
@click.option(
    "--eager-loading/--lazy-loading",
    default=None,
    envvar=_envvars("RUN", "EAGER_LOADING"),
    help="Load the app before serving and fail at once on errors (eager), or keep serving and"
    " show errors in the browser (lazy). Default: eager without the reloader.",
)
@click.option(
    "--debugger-trusted-host",
    "debugger_trusted_hosts",
    multiple=True,
    help="A host name (or .domain for its subdomains) the debugger answers besides"
    " localhost and loopback addresses. Repeat for several.",
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    cert: t.Any,
    reload: bool | None,
    debugger: bool | None,
    with_threads: bool,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
    eager_loading: bool | None,
    debugger_trusted_hosts: tuple[str, ...],
) -> None:
    """Run a development server for the app (not for production).

    Debug mode (--debug or ERLEN_DEBUG=1) turns on the reloader and the debugger.
    """
    os.environ["ERLEN_RUN_FROM_CLI"] = "true"
    from .dev.run import run_dev_server

    debug = get_debug_flag()
    if reload is None:
        reload = debug
    if debugger is None:
        debugger = debug
    show_server_banner(debug, info.display_path(), info.app_import_source)
    run_dev_server(
        load_app=info.load_app,
        host=host,
        port=port,
        use_reloader=reload,
        use_debugger=debugger,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
        threaded=with_threads,
        ssl_context=cert,
        eager_loading=eager_loading,
        app_import_path=info.app_import_path,
        debugger_trusted_hosts=list(debugger_trusted_hosts),
    )


# -- shell ---------------------------------------------------------------------

_SHELLS = ("auto", "python", "ipython", "ptpython")


def _shell_banner(app: Erlen) -> str:
    return (
        f"Python {sys.version} on {sys.platform}\n"
        f"App: {app.import_name}\n"
        f"Instance: {app.instance_path}"
    )


def _try_import(name: str) -> t.Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@click.command("shell", short_help="Run a shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """Run an interactive Python shell in the app's context, with its shell context names.

    Uses IPython or ptpython when installed; ERLEN_SHELL=python|ipython|ptpython picks one.
    """
    from .globals import current_app

    app: Erlen = t.cast(t.Any, current_app)._get_current_object()
    choice = (os.environ.get("ERLEN_SHELL") or "auto").lower()
    if choice not in _SHELLS:
        raise click.UsageError(
            f"ERLEN_SHELL is {choice!r}; use one of {', '.join(_SHELLS)} (or unset it)."
        )
    banner = _shell_banner(app)
    namespace: dict[str, t.Any] = {}
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup, encoding="utf-8") as f:
            exec(compile(f.read(), startup, "exec"), namespace)
    namespace.update(app.make_shell_context())

    if choice in ("auto", "ipython"):
        ipython = _try_import("IPython")
        if ipython is not None:
            click.echo(banner)
            ipython.start_ipython(argv=["--no-banner"], user_ns=namespace)
            return
        if choice == "ipython":
            raise click.UsageError(
                "ERLEN_SHELL is 'ipython' but IPython is not installed. Install it"
                " (pip install ipython) or unset ERLEN_SHELL."
            )
    if choice in ("auto", "ptpython"):
        repl = _try_import("ptpython.repl")
        if repl is not None:
            click.echo(banner)
            repl.embed(globals=namespace, locals=namespace)
            return
        if choice == "ptpython":
            raise click.UsageError(
                "ERLEN_SHELL is 'ptpython' but ptpython is not installed. Install it"
                " (pip install ptpython) or unset ERLEN_SHELL."
            )

    import code

    hook = getattr(sys, "__interactivehook__", None)
    if hook is not None:
        try:
            import readline
            from rlcompleter import Completer
        except ImportError:
            pass
        else:
            # Complete names from the shell's namespace, not this module's globals.
            readline.set_completer(Completer(namespace).complete)
        hook()
    code.interact(banner=banner, local=namespace)


# -- routes --------------------------------------------------------------------


@click.command("routes", short_help="Show the routes for the app.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "domain", "rule", "match")),
    default="endpoint",
    show_default=True,
    help="Sort by this column; 'match' is the order the rules were added in.",
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS too.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show all registered routes with their endpoints and methods."""
    from .globals import current_app

    url_map = current_app.url_map
    rules = list(url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return
    ignored = set() if all_methods else {"HEAD", "OPTIONS"}
    host_matching = bool(getattr(url_map, "host_matching", False))

    def domain_of(rule: t.Any) -> str:
        return str((rule.host if host_matching else rule.subdomain) or "")

    has_domain = any(domain_of(rule) for rule in rules)
    rows: list[list[str]] = []
    for rule in rules:
        methods = ", ".join(sorted(set(rule.methods or ()) - ignored))
        row = [str(rule.endpoint), methods, str(rule.rule)]
        if has_domain:
            row.append(domain_of(rule))
        rows.append(row)
    if sort == "endpoint":
        rows.sort(key=lambda r: (r[0], r[2]))
    elif sort == "methods":
        rows.sort(key=lambda r: (r[1], r[2]))
    elif sort == "rule":
        rows.sort(key=lambda r: r[2])
    elif sort == "domain":
        rows.sort(key=lambda r: (r[3] if has_domain else "", r[2]))
    headers = ["Endpoint", "Methods", "Rule"]
    if has_domain:
        headers.append("Host" if host_matching else "Subdomain")
    table = [headers, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    table.insert(1, ["-" * w for w in widths])
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


# -- testing -------------------------------------------------------------------


class ErlenCliRunner(click.testing.CliRunner):
    """Invoke the app's CLI commands in tests: ``app.test_cli_runner().invoke(args=[...])``."""

    def __init__(self, app: Erlen, **kwargs: t.Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(
        self,
        cli: click.Command | None = None,
        args: str | cabc.Sequence[str] | None = None,
        input: str | bytes | t.IO[t.Any] | None = None,
        env: cabc.Mapping[str, str | None] | None = None,
        catch_exceptions: bool | None = None,
        color: bool = False,
        **extra: t.Any,
    ) -> click.testing.Result:
        """Run ``cli`` (default: ``app.cli``) with a ScriptInfo that returns the app."""
        if cli is None:
            cli = t.cast("click.Command | None", getattr(self.app, "cli", None))
            if cli is None:
                raise TypeError(
                    f"{type(self.app).__name__} has no 'cli' group; pass the command to invoke."
                )
        if "obj" not in extra:
            app = self.app
            # The test configured the app; don't reset its debug flag from the environment.
            extra["obj"] = ScriptInfo(create_app=lambda: app, set_debug_flag=False)
        return super().invoke(cli, args, input, env, catch_exceptions, color, **extra)


#: Flask's name for :class:`ErlenCliRunner`.
FlaskCliRunner = ErlenCliRunner


cli = ErlenGroup(
    name="erlen",
    help="""\
A general utility script for erlen applications.

Finds the app from --app, ERLEN_APP or FLASK_APP, else 'wsgi.py' or 'app.py' in
the current directory. Examples: --app hello, --app hello:app,
--app 'hello:create_app("dev")', --app src/hello/app.py.
""",
)


def main() -> None:
    """Run the ``erlen`` command (the console script)."""
    cli.main()
