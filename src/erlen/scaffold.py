"""What apps and blueprints share: registering views, hooks and error handlers.

Registration only records; the app turns the records into per-endpoint plans on
its first request (see :mod:`erlen.plan`), so a request pays only for the hooks
that apply to it.
"""

from __future__ import annotations

import collections.abc as cabc
import importlib.util
import os
import sys
import typing as t
from collections import defaultdict
from datetime import timedelta
from functools import cached_property
from functools import update_wrapper

from .http.exceptions import HTTPException
from .http.exceptions import default_exceptions

if t.TYPE_CHECKING:
    from jinja2 import BaseLoader

    from .wrappers import Response

_F = t.TypeVar("_F", bound=cabc.Callable[..., t.Any])

#: ``None`` is the app itself; other keys are blueprint names.
ScopeName = t.Optional[str]  # noqa: UP045 - a runtime alias


def setupmethod(f: _F) -> _F:
    """Mark a method that may only be called before the app handles its first request."""
    name = f.__name__

    def wrapper_func(self: Scaffold, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self._check_setup_finished(name)
        return f(self, *args, **kwargs)

    return t.cast(_F, update_wrapper(wrapper_func, f))


def _endpoint_from_view_func(view_func: cabc.Callable[..., t.Any]) -> str:
    if view_func is None:
        raise TypeError("Expected a view function to take the endpoint name from, got None.")
    return view_func.__name__


def get_root_path(import_name: str) -> str:
    """The folder of the module or package ``import_name``, for templates, static files."""
    module = sys.modules.get(import_name)
    if module is not None and getattr(module, "__file__", None):
        return os.path.dirname(os.path.abspath(t.cast(str, module.__file__)))
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin in (None, "namespace"):
        # Interactive sessions and namespace packages: fall back to the cwd.
        return os.getcwd()
    return os.path.dirname(os.path.abspath(spec.origin))


class Scaffold:
    """The registration API of :class:`~erlen.app.Erlen` and :class:`~erlen.Blueprint`."""

    name: str
    _static_folder: str | None = None
    _static_url_path: str | None = None

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        #: The name of the package or module this object belongs to.
        self.import_name = import_name
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        #: Templates folder, relative to :attr:`root_path`.
        self.template_folder = template_folder
        if root_path is None:
            root_path = get_root_path(self.import_name)
        #: Absolute path to the package on the filesystem.
        self.root_path = root_path
        #: Endpoint name -> view function.
        self.view_functions: dict[str, cabc.Callable[..., t.Any]] = {}
        #: scope -> status code (or None) -> exception class -> handler.
        self.error_handler_spec: dict[
            ScopeName, dict[int | None, dict[type[BaseException], cabc.Callable[..., t.Any]]]
        ] = defaultdict(lambda: defaultdict(dict))
        self.before_request_funcs: dict[ScopeName, list[cabc.Callable[[], t.Any]]] = defaultdict(
            list
        )
        self.after_request_funcs: dict[ScopeName, list[cabc.Callable[[t.Any], t.Any]]] = (
            defaultdict(list)
        )
        self.teardown_request_funcs: dict[
            ScopeName, list[cabc.Callable[[BaseException | None], t.Any]]
        ] = defaultdict(list)
        self.template_context_processors: dict[
            ScopeName, list[cabc.Callable[[], dict[str, t.Any]]]
        ] = defaultdict(list)
        self.url_value_preprocessors: dict[
            ScopeName, list[cabc.Callable[[str | None, dict[str, t.Any] | None], None]]
        ] = defaultdict(list)
        self.url_default_functions: dict[
            ScopeName, list[cabc.Callable[[str, dict[str, t.Any]], None]]
        ] = defaultdict(list)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def _check_setup_finished(self, f_name: str) -> None:
        raise NotImplementedError

    # -- static files --------------------------------------------------------

    @property
    def static_folder(self) -> str | None:
        """The absolute path of the static folder, if there is one."""
        if self._static_folder is not None:
            return os.path.join(self.root_path, self._static_folder)
        return None

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        if value is not None:
            value = os.fspath(value).rstrip(r"\/")
        self._static_folder = value

    @property
    def has_static_folder(self) -> bool:
        return self.static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """The URL prefix of the static route (default: ``/`` + the folder's name)."""
        if self._static_url_path is not None:
            return self._static_url_path
        if self.static_folder is not None:
            basename = os.path.basename(self.static_folder)
            return f"/{basename}".rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        if value is not None:
            value = value.rstrip("/")
        self._static_url_path = value

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:
        """The Jinja loader for this object's :attr:`template_folder`, if it has one."""
        if self.template_folder is None:
            return None
        from jinja2 import FileSystemLoader

        return FileSystemLoader(os.path.join(self.root_path, self.template_folder))

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.Any]:
        """Open ``resource`` (a path relative to :attr:`root_path`) for reading."""
        if mode not in {"r", "rt", "rb"}:
            raise ValueError(
                f"Resources can only be opened for reading, not with mode {mode!r}."
                " Use 'r', 'rt' or 'rb'."
            )
        path = os.path.join(self.root_path, resource)
        # The caller closes the file (usually with ``with``).
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Cache max-age for static files: the app's ``SEND_FILE_MAX_AGE_DEFAULT``.

        Override it to choose per file.
        """
        from .globals import current_app

        value = current_app.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if isinstance(value, timedelta):
            return int(value.total_seconds())
        return int(value)

    def send_static_file(self, filename: str) -> Response:
        """The view of the static route: a file from :attr:`static_folder`."""
        if not self.has_static_folder:
            raise RuntimeError("'static_folder' must be set to serve static files.")
        from .helpers import send_from_directory

        max_age = self.get_send_file_max_age(filename)
        return send_from_directory(t.cast(str, self.static_folder), filename, max_age=max_age)

    # -- routes ----------------------------------------------------------------

    def _method_route(
        self, method: str, rule: str, options: dict[str, t.Any]
    ) -> cabc.Callable[[_F], _F]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    @setupmethod
    def get(self, rule: str, **options: t.Any) -> cabc.Callable[[_F], _F]:
        """``route(rule, methods=["GET"])``."""
        return self._method_route("GET", rule, options)

    @setupmethod
    def post(self, rule: str, **options: t.Any) -> cabc.Callable[[_F], _F]:
        """``route(rule, methods=["POST"])``."""
        return self._method_route("POST", rule, options)

    @setupmethod
    def put(self, rule: str, **options: t.Any) -> cabc.Callable[[_F], _F]:
        """``route(rule, methods=["PUT"])``."""
        return self._method_route("PUT", rule, options)

    @setupmethod
    def delete(self, rule: str, **options: t.Any) -> cabc.Callable[[_F], _F]:
        """``route(rule, methods=["DELETE"])``."""
        return self._method_route("DELETE", rule, options)

    @setupmethod
    def patch(self, rule: str, **options: t.Any) -> cabc.Callable[[_F], _F]:
        """``route(rule, methods=["PATCH"])``."""
        return self._method_route("PATCH", rule, options)

    @setupmethod
    def route(self, rule: str, **options: t.Any) -> cabc.Callable[[_F], _F]:
        """Register the decorated function as the view for ``rule``.

        ``endpoint`` defaults to the function's name; ``methods`` to ``["GET"]``;
        other options go to :class:`~erlen.routing.Rule`.
        """

        def decorator(f: _F) -> _F:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: cabc.Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        raise NotImplementedError

    @setupmethod
    def endpoint(self, endpoint: str) -> cabc.Callable[[_F], _F]:
        """Register the decorated function as the view for ``endpoint`` (rule added elsewhere)."""

        def decorator(f: _F) -> _F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    # -- hooks ---------------------------------------------------------------

    @setupmethod
    def before_request(self, f: _F) -> _F:
        """Run ``f()`` before each request; a non-None return value ends it as the response."""
        self.before_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_request(self, f: _F) -> _F:
        """Run ``f(response)`` after each request; it returns the response to send."""
        self.after_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def teardown_request(self, f: _F) -> _F:
        """Run ``f(error)`` when the request context ends, even after an unhandled error."""
        self.teardown_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def context_processor(self, f: _F) -> _F:
        """Register ``f()`` returning a dict of names for every template."""
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def url_value_preprocessor(self, f: _F) -> _F:
        """Run ``f(endpoint, values)`` before the view, to pop values from the matched URL."""
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: _F) -> _F:
        """Run ``f(endpoint, values)`` when building URLs, to fill in values."""
        self.url_default_functions[None].append(f)
        return f

    @setupmethod
    def errorhandler(self, code_or_exception: type[BaseException] | int) -> cabc.Callable[[_F], _F]:
        """Register the decorated function to handle an HTTP status code or exception class.

        For a class, the handler also catches its subclasses; the most specific
        registered class wins.
        """

        def decorator(f: _F) -> _F:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self,
        code_or_exception: type[BaseException] | int,
        f: cabc.Callable[..., t.Any],
    ) -> None:
        """Like :meth:`errorhandler`, without the decorator."""
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    @staticmethod
    def _get_exc_class_and_code(
        exc_class_or_code: type[BaseException] | int,
    ) -> tuple[type[BaseException], int | None]:
        """The exception class and status code for an error handler registration."""
        exc_class: type[BaseException]
        if isinstance(exc_class_or_code, int):
            try:
                exc_class = default_exceptions[exc_class_or_code]
            except KeyError:
                raise ValueError(
                    f"'{exc_class_or_code}' is not a recognized HTTP error code. Use a"
                    " subclass of HTTPException with that code instead."
                ) from None
        else:
            exc_class = exc_class_or_code
        if isinstance(exc_class, Exception):
            raise TypeError(
                f"{exc_class!r} is an instance, not a class. Handlers can only be"
                " registered for Exception classes or HTTP error codes."
            )
        if not isinstance(exc_class, type) or not issubclass(exc_class, Exception):
            raise ValueError(
                f"'{exc_class.__name__}' is not a subclass of Exception. Handlers can only"
                " be registered for Exception classes or HTTP error codes."
            )
        if issubclass(exc_class, HTTPException):
            return exc_class, exc_class.code
        return exc_class, None
