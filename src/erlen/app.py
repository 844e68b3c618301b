"""The application object: ``app = Erlen(__name__)``.

:class:`Erlen` (also exported as ``Flask``) records routes, hooks and handlers,
and is the WSGI callable a server calls. The request pipeline itself lives in
:mod:`erlen.pipeline`; the WSGI translation in :mod:`erlen.wsgi`.
"""

from __future__ import annotations

import collections.abc as cabc
import inspect
import logging
import os
import sys
import typing as t
from datetime import timedelta
from functools import cached_property

from . import pipeline
from .config import DEFAULT_CONFIG
from .config import Config
from .config import ConfigAttribute
from .ctx import AppContext
from .ctx import RequestContext
from .ctx import _AppCtxGlobals
from .globals import _ctx_get
from .http.exceptions import Aborter
from .http.exceptions import BadRequestKeyError
from .http.exceptions import HTTPException
from .http.headers import Headers
from .json.provider import DefaultJSONProvider
from .json.provider import JSONProvider
from .pipeline import call_blocking
from .pipeline import handle
from .pipeline import run_sync
from .plan import Plan
from .routing import BuildError
from .routing import Map
from .routing import MapAdapter
from .routing import RequestRedirect
from .routing import Rule
from .scaffold import Scaffold
from .scaffold import _endpoint_from_view_func
from .scaffold import setupmethod
from .signals import appcontext_tearing_down
from .signals import request_tearing_down
from .templating import TemplatingMixin
from .wrappers import Request
from .wrappers import Response
from .wsgi import request_from_environ
from .wsgi import send_response

if t.TYPE_CHECKING:
    from .blueprints import Blueprint
    from .cli import AppGroup
    from .cli import ErlenCliRunner
    from .sessions import SessionInterface
    from .sessions import SessionMixin
    from .testing import ErlenClient

_F = t.TypeVar("_F", bound=cabc.Callable[..., t.Any])

# Schemes of WebSocket requests: never answered from the memo of HTTP matches.
_WEBSOCKET_SCHEMES = frozenset({"ws", "wss"})
#: The public pipeline methods a subclass may override (Flask's override points).
_PIPELINE_OVERRIDES = (
    "full_dispatch_request",
    "preprocess_request",
    "dispatch_request",
    "handle_user_exception",
    "handle_http_exception",
    "handle_exception",
    "finalize_request",
    "process_response",
)


def _make_timedelta(value: timedelta | int | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


class Erlen(TemplatingMixin, Scaffold):
    """A WSGI application: routes, hooks, error handlers and config.

    :param import_name: the name of the app's module or package, usually
        ``__name__``; it locates templates, static files and the instance folder.
    """

    request_class: type[Request] = Request
    response_class: type[Response] = Response
    aborter_class = Aborter
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    app_ctx_globals_class = _AppCtxGlobals
    config_class = Config
    url_rule_class = Rule
    url_map_class = Map
    test_client_class: type[ErlenClient] | None = None
    test_cli_runner_class: type[ErlenCliRunner] | None = None

    testing = ConfigAttribute("TESTING")
    secret_key = ConfigAttribute("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute(
        "PERMANENT_SESSION_LIFETIME", get_converter=_make_timedelta
    )
    default_config = DEFAULT_CONFIG

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError(
                f"instance_path must be absolute, got {instance_path!r}. Pass an absolute"
                " path, e.g. os.path.abspath(...)."
            )
        #: Folder for files that are not under version control (config, databases).
        self.instance_path = instance_path
        self.config = self.make_config(instance_relative_config)
        self.aborter = self.aborter_class()
        #: How the app reads and writes JSON (``jsonify``, ``request.get_json``).
        self.json: JSONProvider = self.json_provider_class(self)
        #: Called with ``(error, endpoint, values)`` when ``url_for`` cannot build.
        self.url_build_error_handlers: list[
            cabc.Callable[[Exception, str, dict[str, t.Any]], str]
        ] = []
        self.teardown_appcontext_funcs: list[cabc.Callable[[BaseException | None], None]] = []
        self.shell_context_processors: list[cabc.Callable[[], dict[str, t.Any]]] = []
        #: Registered blueprints by their dotted name (``name=`` when given).
        self.blueprints: dict[str, Blueprint] = {}
        #: Extensions keep their state here, keyed by their name.
        self.extensions: dict[str, t.Any] = {}
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.subdomain_matching = subdomain_matching
        self._got_first_request = False
        self._plans: dict[str | None, Plan] = {}
        self._match_adapters: dict[tuple[str, str], MapAdapter] = {}
        self._overrides: frozenset[str] = frozenset()
        # Until the first request settles them (_freeze), assume teardown
        # functions exist: contexts pushed before it must still run them.
        self._has_teardown_request = True
        self._has_teardown_appcontext = True
        self._teardown_work = True
        if self.has_static_folder:
            if bool(static_host) != host_matching:
                raise ValueError(
                    "Invalid static_host/host_matching combination: pass static_host"
                    " exactly when host_matching is on."
                )
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=self.send_static_file,
            )

    # -- naming and config ---------------------------------------------------

    @cached_property
    def name(self) -> str:  # type: ignore[override]
        """The app's name: the import name, or the script's name when run as ``__main__``."""
        if self.import_name == "__main__":
            fn = getattr(sys.modules["__main__"], "__file__", None)
            if fn is None:
                return "__main__"
            return str(os.path.splitext(os.path.basename(fn))[0])
        return self.import_name

    @property
    def debug(self) -> bool:
        """Debug mode: the ``DEBUG`` config key."""
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if self.config["TEMPLATES_AUTO_RELOAD"] is None and "jinja_env" in self.__dict__:
            self.jinja_env.auto_reload = bool(value)

    def make_config(self, instance_relative: bool = False) -> Config:
        """The app's :class:`Config`, with Flask's defaults and ``DEBUG`` from the environment."""
        root_path = self.instance_path if instance_relative else self.root_path
        defaults = dict(self.default_config)
        defaults["DEBUG"] = _env_debug()
        return self.config_class(root_path, defaults)

    def auto_find_instance_path(self) -> str:
        """``instance`` next to the app's package (or module)."""
        return os.path.join(self.root_path, "instance")

    @cached_property
    def logger(self) -> logging.Logger:
        """The app's logger, named after :attr:`name`."""
        from .logging import create_logger

        return create_logger(self)

    @property
    def session_interface(self) -> SessionInterface:
        """How sessions are loaded and saved; signed cookies by default."""
        interface = self.__dict__.get("session_interface")
        if interface is None:
            from .sessions import SecureCookieSessionInterface

            interface = self.__dict__["session_interface"] = SecureCookieSessionInterface()
        return t.cast("SessionInterface", interface)

    @session_interface.setter
    def session_interface(self, value: SessionInterface) -> None:
        self.__dict__["session_interface"] = value

    def _open_session(self, request: Request) -> SessionMixin:
        interface = self.session_interface
        session = interface.open_session(self, request)
        if session is None:
            session = interface.make_null_session(self)
        return session

    # -- setup -------------------------------------------------------------------

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the application."
                " It has already handled its first request, any changes will not be"
                " applied consistently.\n"
                "Make sure all imports, decorators, functions, etc. needed to set up"
                " the application are done before running it."
            )

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: cabc.Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register a URL rule, and ``view_func`` as the view for its endpoint."""
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)  # type: ignore[arg-type]
        options["endpoint"] = endpoint
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for example:"
                ' @app.route(..., methods=["POST"])'
            )
        methods = {item.upper() for item in methods}
        required_methods = set(getattr(view_func, "required_methods", ()))
        if provide_automatic_options is None:
            provide_automatic_options = getattr(view_func, "provide_automatic_options", None)
        if provide_automatic_options is None:
            if "OPTIONS" not in methods and self.config["PROVIDE_AUTOMATIC_OPTIONS"]:
                provide_automatic_options = True
                required_methods.add("OPTIONS")
            else:
                provide_automatic_options = False
        methods |= required_methods
        rule_obj = self.url_rule_class(rule, methods=methods, **options)
        rule_obj.provide_automatic_options = provide_automatic_options
        self.url_map.add(rule_obj)
        if view_func is not None:
            old_func = self.view_functions.get(endpoint)
            if old_func is not None and old_func != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing endpoint"
                    f" function: {endpoint}"
                )
            self.view_functions[endpoint] = view_func

    @setupmethod
    def teardown_appcontext(self, f: _F) -> _F:
        """Run ``f(error)`` when the app context ends (after every request)."""
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def shell_context_processor(self, f: _F) -> _F:
        """Register ``f()`` returning names for ``erlen shell``."""
        self.shell_context_processors.append(f)
        return f

    @cached_property
    def cli(self) -> AppGroup:
        """The app's Click group: ``@app.cli.command()`` adds ``erlen`` commands."""
        from .cli import AppGroup

        return AppGroup(self.name)

    def test_cli_runner(self, **kwargs: t.Any) -> ErlenCliRunner:
        """A Click runner that invokes the app's CLI commands, for tests."""
        from .cli import ErlenCliRunner

        cls = self.test_cli_runner_class or ErlenCliRunner
        return cls(self, **kwargs)

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.Any]:
        """Open ``resource`` relative to :attr:`instance_path`; writing is allowed here."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    def make_shell_context(self) -> dict[str, t.Any]:
        """The names ``erlen shell`` starts with: ``app``, ``g`` and the processors' names."""
        from .globals import g

        rv: dict[str, t.Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            rv.update(processor())
        return rv

    def iter_blueprints(self) -> cabc.ValuesView[Blueprint]:
        """The registered blueprints, in registration order."""
        return self.blueprints.values()

    # -- blueprints (see erlen.blueprints) -----------------------------------------

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Register ``blueprint``'s views, hooks and files on the app.

        ``options`` override the blueprint's own: ``url_prefix``, ``subdomain``,
        ``url_defaults``, ``name`` (to register one blueprint twice), ``cli_group``;
        the blueprint's deferred functions see all of them.
        """
        blueprint.register(self, options)

    def _freeze(self) -> None:
        # Runs once, at the first request: settle what every request would ask.
        cls = type(self)
        self._overrides = frozenset(
            name for name in _PIPELINE_OVERRIDES if getattr(cls, name) is not getattr(Erlen, name)
        )
        self._has_teardown_request = any(self.teardown_request_funcs.values())
        self._has_teardown_appcontext = bool(self.teardown_appcontext_funcs)
        # Signal receivers may connect later (tests often do), so the request
        # context checks those live; this flag covers the registered functions.
        self._teardown_work = self._has_teardown_request or self._has_teardown_appcontext
        self._got_first_request = True

    def _plan_for(self, endpoint: str | None) -> Plan:
        plan = self._plans.get(endpoint)
        if plan is None:
            plan = self._plans[endpoint] = Plan(self, endpoint)
        return plan

    # -- contexts ----------------------------------------------------------------

    def app_context(self) -> AppContext:
        """An app context, for ``with app.app_context():`` outside requests."""
        return AppContext(self)

    def request_context(self, environ: dict[str, t.Any]) -> RequestContext:
        """A request context for a WSGI environ."""
        return RequestContext(self, environ)

    def request_from_environ(self, environ: dict[str, t.Any]) -> Request:
        """The app's request object for a WSGI environ."""
        return request_from_environ(environ, self.request_class)

    def test_request_context(self, *args: t.Any, **kwargs: t.Any) -> RequestContext:
        """A request context for a made-up request; takes the test client's arguments."""
        from .testing import EnvironBuilder

        builder = EnvironBuilder(self, *args, **kwargs)
        try:
            ctx = self.request_context(builder.get_environ())
        finally:
            builder.close()
        self._match_request(ctx)
        return ctx

    def test_client(self, use_cookies: bool = True, **kwargs: t.Any) -> ErlenClient:
        """A client that sends requests to the app without a server, for tests."""
        cls = self.test_client_class
        if cls is None:
            from .testing import ErlenClient

            cls = ErlenClient
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)

    # -- routing -------------------------------------------------------------------

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """A URL adapter for ``request``, or for building URLs outside one (needs SERVER_NAME)."""
        config = self.config
        if request is not None:
            trusted_hosts = config["TRUSTED_HOSTS"]
            if trusted_hosts is not None:
                request.trusted_hosts = trusted_hosts
            if self.url_map.host_matching:
                subdomain = None
            elif not self.subdomain_matching:
                subdomain = self.url_map.default_subdomain or ""
            else:
                subdomain = _subdomain(request.host, config["SERVER_NAME"])
            return self.url_map.bind(
                request.host,
                request.root_path,
                subdomain,
                request.scheme,
                request.method,
                request.path,
                request.query_string.decode("latin-1"),
            )
        server_name = config["SERVER_NAME"]
        if server_name is None:
            return None
        return self.url_map.bind(
            server_name,
            script_name=config["APPLICATION_ROOT"],
            url_scheme=config["PREFERRED_URL_SCHEME"],
        )

    def _match_request(self, ctx: RequestContext) -> Plan:
        # PERF: the hot path of every request: bind, match, look up the plan.
        request = ctx.request
        url_map = self.url_map
        host_less = not (
            url_map.host_matching
            or self.subdomain_matching
            or self.config["TRUSTED_HOSTS"] is not None
        )
        # The memo as it is now: when a rule is added meanwhile, the map starts
        # a new one, and what this request learns goes into the discarded one.
        memo: dict[str, dict[str, tuple[Rule, Plan]]] | None = None
        if host_less and request.scheme not in _WEBSOCKET_SCHEMES:
            memo = url_map.match_cache
            # PERF: a static rule matched once for this path and method matches
            # again the same way: one dict lookup gives the rule and the plan
            # (hello: matching 9.7k -> 4.7k instructions per request,
            # benchmarks/instructions.py --scenarios hello).
            hits = memo.get(request.path)
            if hits is not None:
                hit = hits.get(request.method)
                if hit is not None:
                    request.url_rule, plan = hit
                    request.view_args = {}
                    return plan
            # PERF: then the map's generated matcher itself, without an adapter
            # (path_json: matching 15.6k -> 10.7k instructions). A miss, a slash
            # redirect or a rule that may redirect takes the full match below.
            found = url_map.find(
                url_map.default_subdomain or "", request.path, request.method, False
            )
            if found and not found[0].may_redirect:
                rule, request.view_args = found
                return self._plan_for_match(request, rule, memo)
        try:
            if host_less:
                # PERF: a path matches without the host, and matching changes no
                # adapter state, so one host-less adapter per mount point and
                # scheme serves every request. The full adapter (with the
                # validated host) is made only when a redirect or url_for needs it.
                key = (request.root_path, request.scheme)
                adapter = self._match_adapters.get(key)
                if adapter is None:
                    adapter = url_map.bind("", key[0], url_map.default_subdomain or "", key[1])
                    # SECURITY: the root path may come from a proxy header
                    # (X-Forwarded-Prefix); keep the cache bounded.
                    if len(self._match_adapters) < 64:
                        self._match_adapters[key] = adapter
            else:
                adapter = ctx.url_adapter
            try:
                rule, request.view_args = adapter.match(  # type: ignore[union-attr]
                    request.path, request.method, return_rule=True
                )
            except RequestRedirect:
                if adapter is ctx.url_adapter:
                    raise
                rule, request.view_args = ctx.url_adapter.match(return_rule=True)  # type: ignore[union-attr]
        except HTTPException as e:
            request.routing_exception = e
            return self._plan_for(None)
        return self._plan_for_match(request, rule, memo)

    def _plan_for_match(
        self,
        request: Request,
        rule: Rule,
        memo: dict[str, dict[str, tuple[Rule, Plan]]] | None,
    ) -> Plan:
        request.url_rule = rule
        endpoint = rule.endpoint
        plan = self._plans.get(endpoint)
        if plan is None:
            plan = self._plans[endpoint] = Plan(self, endpoint)
        if memo is not None and not rule.arguments and not rule.websocket:
            # A static rule without defaults: remember the hit (bounded: a rule
            # without a methods list matches any method a client makes up).
            hits = memo.setdefault(request.path, {})
            if len(hits) < 16:
                hits[request.method] = (rule, plan)
        return plan

    def raise_routing_exception(self, request: Request) -> t.NoReturn:
        """Raise the routing error recorded on ``request`` (404, 405 or a 308 redirect)."""
        raise request.routing_exception  # type: ignore[misc]

    def make_default_options_response(self) -> Response:
        """The answer to an automatic ``OPTIONS`` request: the allowed methods."""
        adapter = _ctx_get().url_adapter
        methods = adapter.allowed_methods() if adapter is not None else []
        rv = self.response_class()
        rv.allow.update(methods)
        return rv

    def inject_url_defaults(self, endpoint: str, values: dict[str, t.Any]) -> None:
        """Let the url_defaults functions fill in ``values`` for ``endpoint``."""
        names: tuple[str | None, ...] = (None,)
        if "." in endpoint:
            parts = endpoint.split(".")[:-1]
            names = (None, *(".".join(parts[:i]) for i in range(1, len(parts) + 1)))
        for name in names:
            if name in self.url_default_functions:
                for func in self.url_default_functions[name]:
                    func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, t.Any]
    ) -> str:
        """Try the url_build_error_handlers; re-raise ``error`` when none gives a URL."""
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as e:
                error = e
            else:
                if rv is not None:
                    return rv
        if error is sys.exc_info()[1]:
            raise
        raise error

    def url_for(
        self,
        endpoint: str,
        /,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: t.Any,
    ) -> str:
        """The URL of ``endpoint`` with ``values``; see :func:`erlen.url_for`."""
        from .helpers import _url_for

        return _url_for(self, endpoint, _anchor, _method, _scheme, _external, values)

    # -- responses -----------------------------------------------------------------

    def make_response(self, rv: t.Any) -> Response:
        """Turn a view's return value into a response object.

        Accepts a response, ``str``/``bytes``, a ``dict`` or ``list`` (JSON), an
        iterator or generator (streamed), or a tuple ``(body, status)``,
        ``(body, headers)`` or ``(body, status, headers)``.
        """
        response_class = self.response_class
        # PERF: the common cases first, without isinstance chains; type checks
        # use tuples, not X | Y unions (built anew on each call). Returning
        # ("Hello", 201): 16.6k -> 13.8k instructions; a dict: 29.4k -> 22.9k
        # (app.make_response in a loop, counted with perf stat).
        rv_type = type(rv)
        if rv_type is str or rv_type is bytes:
            return response_class(rv)
        if rv_type is response_class:
            return rv  # type: ignore[no-any-return]  # checked just above
        if rv_type is dict or rv_type is list:
            return self.json.response(rv)
        status = headers = None
        if isinstance(rv, tuple):
            length = len(rv)
            if length == 3:
                rv, status, headers = rv
            elif length == 2:
                if isinstance(rv[1], (Headers, dict, tuple, list)):
                    rv, headers = rv
                else:
                    rv, status = rv
            else:
                raise TypeError(
                    "The view function did not return a valid response tuple. The tuple"
                    " must have the form (body, status, headers), (body, status), or"
                    " (body, headers)."
                )
        if rv is None:
            endpoint = _current_endpoint()
            raise TypeError(
                f"The view function for {endpoint!r} did not return a valid response. The"
                " function either returned None or ended without a return statement."
            )
        if not isinstance(rv, response_class):
            if isinstance(rv, (str, bytes, bytearray, cabc.Iterator)):
                rv = response_class(rv, status=status, headers=headers)
                status = headers = None
            elif isinstance(rv, (dict, list)):
                rv = self.json.response(rv)
            elif isinstance(rv, HTTPException):
                rv = self._http_exception_response(rv)
            elif hasattr(rv, "status_code") and hasattr(rv, "headers"):
                rv = response_class.force_type(rv)
            else:
                raise TypeError(
                    "The view function did not return a valid response. The return type"
                    " must be a string, dict, list, tuple with headers or status,"
                    f" Response instance, or WSGI callable, but it was a {type(rv).__name__}."
                )
        if status is not None:
            if isinstance(status, (str, bytes, bytearray)):
                rv.status = status if isinstance(status, str) else bytes(status).decode()
            else:
                rv.status_code = status
        if headers:
            rv.headers.update(headers)
        return rv  # type: ignore[no-any-return]  # a response_class instance by now

    def _http_exception_response(self, e: HTTPException) -> Response:
        response = e.get_response()
        if not isinstance(response, self.response_class):
            response = self.response_class.force_type(response)
        return response

    def redirect(self, location: str, code: int = 302) -> Response:
        """A redirect response (``erlen.redirect`` uses this when an app is active)."""
        from .http.response import redirect

        return redirect(location, code, Response=self.response_class)

    # -- the pipeline's public face ------------------------------------------------

    def ensure_sync(self, func: cabc.Callable[..., t.Any]) -> cabc.Callable[..., t.Any]:
        """``func`` itself, or for an ``async def`` function a blocking wrapper of it."""
        if inspect.iscoroutinefunction(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(
        self, func: cabc.Callable[..., cabc.Coroutine[t.Any, t.Any, t.Any]]
    ) -> cabc.Callable[..., t.Any]:
        """Wrap an async function to run to completion on this thread's event loop."""

        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            return pipeline.run_coroutine_blocking(func(*args, **kwargs))

        return wrapper

    def full_dispatch_request(self) -> Response:
        """Run the pipeline for the active request context and return the response."""
        ctx = t.cast(RequestContext, _ctx_get())
        if not self._got_first_request:
            self._freeze()
        if self._overrides - {"full_dispatch_request"}:
            return self._dispatch_through_methods()
        plan = pipeline.current_plan(self)
        return pipeline.run_sync(pipeline.handle(self, ctx, plan, pipeline.call_blocking))

    def preprocess_request(self) -> t.Any:
        """Run url value preprocessors and before_request functions; a value ends the request."""
        ctx = t.cast(RequestContext, _ctx_get())
        plan = pipeline.current_plan(self)
        return pipeline.run_sync(pipeline.preprocess(self, ctx, plan, pipeline.call_blocking))

    def dispatch_request(self) -> t.Any:
        """Call the view (or raise the routing error) and return its value."""
        ctx = t.cast(RequestContext, _ctx_get())
        plan = pipeline.current_plan(self)
        return pipeline.dispatch(self, ctx, plan, pipeline.call_blocking)

    def process_response(self, response: Response) -> Response:
        """Run after-request functions and save the session."""
        ctx = t.cast(RequestContext, _ctx_get())
        plan = pipeline.current_plan(self)
        return pipeline.run_sync(
            pipeline.process_response(self, ctx, plan, response, pipeline.call_blocking)
        )

    def finalize_request(self, rv: t.Any, from_error_handler: bool = False) -> Response:
        """Make the response and process it."""
        ctx = t.cast(RequestContext, _ctx_get())
        plan = pipeline.current_plan(self)
        return pipeline.run_sync(
            pipeline.finalize(self, ctx, plan, rv, pipeline.call_blocking, from_error_handler)
        )

    def handle_user_exception(self, e: Exception) -> t.Any:
        """Handle an error from a view or hook with the registered handlers, or re-raise it."""
        ctx = t.cast(RequestContext, _ctx_get())
        plan = pipeline.current_plan(self)
        return pipeline.run_sync(
            pipeline.handle_user_exception(self, ctx, plan, e, pipeline.call_blocking)
        )

    def handle_http_exception(self, e: HTTPException) -> t.Any:
        """Handle an HTTP error with its registered handler, or return it as the response."""
        ctx = t.cast(RequestContext, _ctx_get())
        plan = pipeline.current_plan(self)
        return pipeline.run_sync(
            pipeline.handle_http_exception(self, ctx, plan, e, pipeline.call_blocking)
        )

    def handle_exception(self, e: Exception) -> Response:
        """Handle an error no handler caught: re-raise it (propagation) or answer 500."""
        ctx = t.cast(RequestContext, _ctx_get())
        plan = pipeline.current_plan(self)
        return pipeline.run_sync(
            pipeline.handle_exception(self, ctx, plan, e, pipeline.call_blocking)
        )

    def trap_http_exception(self, e: Exception) -> bool:
        """Whether an HTTP error should be raised like any other error (for debugging)."""
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if trap_bad_request is None and self.debug and isinstance(e, BadRequestKeyError):
            return True
        if trap_bad_request:
            from .http.exceptions import BadRequest

            return isinstance(e, BadRequest)
        return False

    def should_ignore_error(self, error: BaseException | None) -> bool:
        """Whether teardown functions should see ``error`` as ``None``."""
        return False

    def log_exception(self, exc_info: t.Any) -> None:
        """Log an unhandled error with the request's path and method."""
        ctx = _ctx_get(None)
        if ctx is not None and ctx.request is not None:
            where = f"{ctx.request.path} [{ctx.request.method}]"
        else:
            where = "(no request)"
        self.logger.error("Exception on %s", where, exc_info=exc_info)

    def do_teardown_request(self, exc: BaseException | None = None) -> None:
        """Run the teardown_request functions (innermost blueprint first, each list reversed)."""
        ctx = _ctx_get()
        request = ctx.request
        names: list[str | None] = [*(request.blueprints if request is not None else ()), None]
        for name in names:
            if name in self.teardown_request_funcs:
                for func in reversed(self.teardown_request_funcs[name]):
                    self.ensure_sync(func)(exc)
        if request_tearing_down.receivers:
            request_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        """Run the teardown_appcontext functions, last registered first."""
        for func in reversed(self.teardown_appcontext_funcs):
            self.ensure_sync(func)(exc)
        if appcontext_tearing_down.receivers:
            appcontext_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    # -- WSGI ----------------------------------------------------------------------

    def wsgi_app(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> cabc.Iterable[bytes]:
        """The WSGI application; wrap this attribute to add WSGI middleware.

        ``app.wsgi_app = Middleware(app.wsgi_app)`` keeps ``app`` itself intact.
        """
        if not self._got_first_request:
            self._freeze()
        ctx = RequestContext(self, None, request_from_environ(environ, self.request_class))
        error: BaseException | None = None
        ctx.push()
        try:
            try:
                if self._overrides:
                    response = self._run_overridden(ctx)
                else:
                    plan = self._match_request(ctx)
                    response = run_sync(handle(self, ctx, plan, call_blocking))
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except:  # noqa: E722 - record the error for teardown, then re-raise
                error = sys.exc_info()[1]
                raise
            return send_response(response, environ, start_response)
        finally:
            if error is not None and self.should_ignore_error(error):
                error = None
            ctx.pop(error)
            if "erlen.preserve_context" in environ:  # the test client keeps the context
                environ["erlen.preserve_context"](ctx)

    def _run_overridden(self, ctx: RequestContext) -> Response:
        # A subclass replaced a pipeline method: go through the public methods,
        # as Flask does, so the override is honoured.
        self._match_request(ctx)
        return self.full_dispatch_request()

    def _dispatch_through_methods(self) -> Response:
        # Flask's full_dispatch_request, composed from the overridable methods.
        try:
            rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
        return self.finalize_request(rv)

    def __call__(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> cabc.Iterable[bytes]:
        """The WSGI entry point: calls :meth:`wsgi_app`, so middleware can wrap that."""
        return self.wsgi_app(environ, start_response)

    # -- static files and the development server -----------------------------------

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: t.Any,
    ) -> None:
        """Serve the app with the development server (never in production).

        The same server as ``erlen run``: ``host`` defaults to ``127.0.0.1`` (or
        ``ERLEN_RUN_HOST``), ``port`` to 5000 (or ``ERLEN_RUN_PORT``). In debug
        mode the reloader and the debugger are on. Other options:
        ``use_reloader``, ``use_debugger``, ``use_evalex``, ``extra_files``,
        ``exclude_patterns``, ``reloader_interval``, ``reloader_type``,
        ``threaded`` (default True), ``processes``, ``passthrough_errors``,
        ``ssl_context`` (``(cert, key)``, an ``ssl.SSLContext`` or ``"adhoc"``).
        """
        from . import cli
        from .dev.run import is_running_from_reloader
        from .dev.run import run_dev_server

        if os.environ.get("ERLEN_RUN_FROM_CLI") == "true":
            # COMPAT: under `erlen run` the command line's server is already running.
            if not is_running_from_reloader():
                print(
                    " * Ignoring a call to 'app.run()' that would block the current"
                    " 'erlen' CLI command. Only call 'app.run()' in an"
                    " 'if __name__ == \"__main__\"' guard.",
                    file=sys.stderr,
                )
            return
        if cli.get_load_dotenv(load_dotenv):
            cli.load_dotenv()
            if any(name in os.environ for name in ("ERLEN_DEBUG", "FLASK_DEBUG")):
                self.debug = cli.get_debug_flag()
        if debug is not None:
            self.debug = bool(debug)
        server_name = self.config.get("SERVER_NAME")
        sn_host = sn_port = None
        if server_name:
            sn_host, _, sn_port = server_name.partition(":")
        env = os.environ
        if not host:
            host = sn_host or env.get("ERLEN_RUN_HOST") or env.get("FLASK_RUN_HOST") or "127.0.0.1"
        env_port = env.get("ERLEN_RUN_PORT") or env.get("FLASK_RUN_PORT")
        if port or port == 0:
            port = int(port)
        elif sn_port:
            port = int(sn_port)
        elif env_port:
            port = int(env_port)
        else:
            port = 5000
        options.setdefault("use_reloader", self.debug)
        options.setdefault("use_debugger", self.debug)
        options.setdefault("threaded", True)
        cli.show_server_banner(self.debug, self.name)
        run_dev_server(lambda: self, host=host, port=port, **options)


def _env_debug() -> bool:
    value = os.environ.get("ERLEN_DEBUG") or os.environ.get("FLASK_DEBUG") or ""
    return value.lower() not in ("", "0", "false", "no")


def _subdomain(host: str, server_name: t.Any) -> str:
    # The part of ``host`` left of SERVER_NAME, for subdomain matching.
    if not server_name:
        return ""
    host = host.lower().rsplit(":", 1)[0] if ":" in host and "]" not in host else host.lower()
    server = server_name.lower().split(":", 1)[0]
    if host == server:
        return ""
    if host.endswith("." + server):
        return host[: -len(server) - 1]
    return ""


def _current_endpoint() -> str | None:
    ctx = _ctx_get(None)
    if ctx is None or ctx.request is None:
        return None
    return ctx.request.endpoint
