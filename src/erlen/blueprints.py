"""Blueprints: groups of views, hooks and files, registered on an app later.

A :class:`Blueprint` records what it is told (routes, hooks, error handlers) and
replays the records when it is registered, under its name and URL prefix, so one
blueprint can be registered on several apps, or several times on one app.
"""

from __future__ import annotations

import collections.abc as cabc
import os
import typing as t
from collections import defaultdict
from functools import cached_property
from functools import update_wrapper

from .scaffold import Scaffold
from .scaffold import _endpoint_from_view_func
from .scaffold import setupmethod

if t.TYPE_CHECKING:
    from .app import Erlen
    from .cli import AppGroup

_F = t.TypeVar("_F", bound=cabc.Callable[..., t.Any])

#: A function :meth:`Blueprint.record` stores, called with the setup state.
DeferredSetupFunction = cabc.Callable[["BlueprintSetupState"], None]


class _Sentinel:
    # The default of ``cli_group``: "name the group after the blueprint".
    def __repr__(self) -> str:
        return "<default cli_group>"


_sentinel: t.Any = _Sentinel()


class BlueprintSetupState:
    """What one registration of a blueprint knows: the app, the options, the prefixes.

    The deferred functions of :meth:`Blueprint.record` receive it, and use its
    :meth:`add_url_rule` to add rules under the registration's prefixes.
    """

    def __init__(
        self,
        blueprint: Blueprint,
        app: Erlen,
        options: t.Any,
        first_registration: bool,
    ) -> None:
        #: The app the blueprint is being registered on.
        self.app = app
        #: The blueprint being registered.
        self.blueprint = blueprint
        #: The keyword arguments given to ``register_blueprint``.
        self.options = options
        #: Whether this is the blueprint's first registration on this app
        #: (registering under another ``name=`` is not a first registration).
        self.first_registration = first_registration

        subdomain = self.options.get("subdomain")
        if subdomain is None:
            subdomain = self.blueprint.subdomain
        #: The subdomain the blueprint's rules match, or ``None``.
        self.subdomain: str | None = subdomain

        url_prefix = self.options.get("url_prefix")
        if url_prefix is None:
            url_prefix = self.blueprint.url_prefix
        #: The prefix of every rule's path, or ``None``.
        self.url_prefix: str | None = url_prefix

        #: The name of this registration (``name=`` or the blueprint's name).
        self.name: str = self.options.get("name", blueprint.name)
        #: The dotted name of the parent registration, for nested blueprints.
        self.name_prefix: str = self.options.get("name_prefix", "")

        #: Default view arguments for every rule: the blueprint's, then the options'.
        self.url_defaults: dict[str, t.Any] = dict(self.blueprint.url_values_defaults)
        self.url_defaults.update(self.options.get("url_defaults", ()))

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: cabc.Callable[..., t.Any] | None = None,
        **options: t.Any,
    ) -> None:
        """Add a rule to the app under this registration's prefix, subdomain and name."""
        if self.url_prefix is not None:
            if rule:
                rule = "/".join((self.url_prefix.rstrip("/"), rule.lstrip("/")))
            else:
                rule = self.url_prefix
        options.setdefault("subdomain", self.subdomain)
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)  # type: ignore[arg-type]
        defaults = self.url_defaults
        if "defaults" in options:
            defaults = dict(defaults, **options.pop("defaults"))
        self.app.add_url_rule(
            rule,
            f"{self.name_prefix}.{self.name}.{endpoint}".lstrip("."),
            view_func,
            defaults=defaults,
            **options,
        )


class Blueprint(Scaffold):
    """A set of views, hooks, templates and static files to register on an app.

    Everything registered on a blueprint applies to the requests of its own
    endpoints (``name.view``); the ``app_*`` methods apply to every request.

    :param name: the blueprint's name, the prefix of its endpoints; no dots.
    :param import_name: the blueprint's package, usually ``__name__``; it locates
        ``static_folder`` and ``template_folder``.
    :param url_prefix: prefix of every rule's path.
    :param subdomain: subdomain of every rule.
    :param url_defaults: default view arguments of every rule.
    :param cli_group: name of the group of the blueprint's commands under the
        app's CLI; ``None`` adds them to the app's group directly.
    """

    _got_registered_once = False

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, t.Any] | None = None,
        root_path: str | None = None,
        cli_group: str | None = _sentinel,
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if not name:
            raise ValueError("'name' may not be empty.")
        if "." in name:
            raise ValueError("'name' may not contain a dot '.' character.")
        #: The blueprint's name: the prefix of its endpoints and its scope key.
        self.name = name
        self.url_prefix = url_prefix
        self.subdomain = subdomain
        #: Functions to call with a :class:`BlueprintSetupState` at registration.
        self.deferred_functions: list[DeferredSetupFunction] = []
        if url_defaults is None:
            url_defaults = {}
        #: Default view arguments of every rule (``url_defaults=``).
        self.url_values_defaults = url_defaults
        self.cli_group = cli_group
        self._blueprints: list[tuple[Blueprint, dict[str, t.Any]]] = []

    @cached_property
    def cli(self) -> AppGroup:
        """The blueprint's Click group; its commands join the app's CLI at registration."""
        # Imported here: most apps never touch a blueprint's CLI, and the CLI
        # module is not needed to serve requests.
        from .cli import AppGroup

        return AppGroup()

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_registered_once:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the blueprint"
                f" '{self.name}'. It has already been registered at least once, any"
                " changes will not be applied consistently.\n"
                "Make sure all imports, decorators, functions, etc. needed to set up"
                " the blueprint are done before registering it."
            )

    # -- deferred setup ------------------------------------------------------

    @setupmethod
    def record(self, func: DeferredSetupFunction) -> None:
        """Call ``func(state)`` at each registration, with a :class:`BlueprintSetupState`."""
        self.deferred_functions.append(func)

    @setupmethod
    def record_once(self, func: DeferredSetupFunction) -> None:
        """Like :meth:`record`, but only at the first registration on each app."""

        def wrapper(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(update_wrapper(wrapper, func))

    def make_setup_state(
        self, app: Erlen, options: dict[str, t.Any], first_registration: bool = False
    ) -> BlueprintSetupState:
        """The state the deferred functions receive; override to use a subclass."""
        return BlueprintSetupState(self, app, options, first_registration)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Nest ``blueprint`` in this one; it is registered whenever this one is.

        Its name becomes ``parent.child``, its URL prefix and subdomain are
        joined to this one's. ``options`` are those of ``app.register_blueprint``.
        """
        if blueprint is self:
            raise ValueError(
                "Cannot register a blueprint on itself. Register it on the app or on"
                " another blueprint."
            )
        self._blueprints.append((blueprint, options))

    def register(self, app: Erlen, options: dict[str, t.Any]) -> None:
        """Register this blueprint on ``app`` (called by ``app.register_blueprint``).

        Adds the static route, merges the blueprint's hooks and handlers into the
        app's registries under its dotted name, replays the recorded functions,
        then registers the nested blueprints.
        """
        name_prefix = options.get("name_prefix", "")
        self_name = options.get("name", self.name)
        name = f"{name_prefix}.{self_name}".lstrip(".")

        if name in app.blueprints:
            # COMPAT: since Flask 2.3 even the same blueprint may not take a
            # name twice, since its endpoints would be registered twice.
            bp_desc = "this" if app.blueprints[name] is self else "a different"
            existing_at = f" '{name}'" if self_name != name else ""
            raise ValueError(
                f"The name '{self_name}' is already registered for {bp_desc}"
                f" blueprint{existing_at}. Use 'name=' to provide a unique name."
            )

        first_bp_registration = not any(bp is self for bp in app.blueprints.values())
        first_name_registration = name not in app.blueprints

        app.blueprints[name] = self
        self._got_registered_once = True
        state = self.make_setup_state(app, options, first_bp_registration)

        if self.has_static_folder:
            state.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                view_func=self.send_static_file,
                endpoint="static",
            )

        if first_bp_registration or first_name_registration:
            self._merge_blueprint_funcs(app, name)

        for deferred in self.deferred_functions:
            deferred(state)

        self._register_cli(app, name, options)

        for blueprint, bp_options in self._blueprints:
            blueprint.register(app, self._nested_options(state, name, blueprint, bp_options))

    @staticmethod
    def _nested_options(
        state: BlueprintSetupState, name: str, blueprint: Blueprint, options: dict[str, t.Any]
    ) -> dict[str, t.Any]:
        # A child's options inside this registration: subdomain "child.parent",
        # URL prefix "/parent/child", name "parent.child".
        options = options.copy()
        subdomain = options.get("subdomain")
        if subdomain is None:
            subdomain = blueprint.subdomain
        if state.subdomain is not None and subdomain is not None:
            options["subdomain"] = f"{subdomain}.{state.subdomain}"
        elif subdomain is not None:
            options["subdomain"] = subdomain
        elif state.subdomain is not None:
            options["subdomain"] = state.subdomain

        url_prefix = options.get("url_prefix")
        if url_prefix is None:
            url_prefix = blueprint.url_prefix
        if state.url_prefix is not None and url_prefix is not None:
            options["url_prefix"] = state.url_prefix.rstrip("/") + "/" + url_prefix.lstrip("/")
        elif url_prefix is not None:
            options["url_prefix"] = url_prefix
        elif state.url_prefix is not None:
            options["url_prefix"] = state.url_prefix

        options["name_prefix"] = name
        return options

    def _merge_blueprint_funcs(self, app: Erlen, name: str) -> None:
        # The blueprint's registries use the key None for itself (and dotted
        # keys for nothing: children merge on their own); the app's use the
        # registration's dotted name, which plan.py looks up per endpoint.
        def scoped(key: str | None) -> str:
            return name if key is None else f"{name}.{key}"

        for key, by_code in self.error_handler_spec.items():
            app.error_handler_spec[scoped(key)] = defaultdict(
                dict, {code: dict(handlers) for code, handlers in by_code.items()}
            )

        # COMPAT: views registered with @bp.endpoint keep their bare endpoint
        # name, as in Flask.
        for endpoint, func in self.view_functions.items():
            app.view_functions[endpoint] = func

        registries: tuple[tuple[dict[t.Any, list[t.Any]], dict[t.Any, list[t.Any]]], ...] = (
            (self.before_request_funcs, app.before_request_funcs),
            (self.after_request_funcs, app.after_request_funcs),
            (self.teardown_request_funcs, app.teardown_request_funcs),
            (self.url_default_functions, app.url_default_functions),
            (self.url_value_preprocessors, app.url_value_preprocessors),
            (self.template_context_processors, app.template_context_processors),
        )
        for own, target in registries:
            for key, funcs in own.items():
                target.setdefault(scoped(key), []).extend(funcs)

    def _register_cli(self, app: Erlen, name: str, options: dict[str, t.Any]) -> None:
        # Commands join the app's group: as a subgroup named after the
        # blueprint (default), named cli_group, or merged in (cli_group=None).
        if "cli" not in self.__dict__ or not self.cli.commands:
            return
        app_cli = getattr(app, "cli", None)
        if app_cli is None:
            return
        group = options.get("cli_group", self.cli_group)
        if group is None:
            app_cli.commands.update(self.cli.commands)
        else:
            self.cli.name = name if group is _sentinel else group
            app_cli.add_command(self.cli)

    # -- routes ----------------------------------------------------------------

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: cabc.Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Record a rule to add at registration, as ``name.endpoint`` under the URL prefix."""
        if endpoint and "." in endpoint:
            raise ValueError(
                f"'endpoint' may not contain a dot '.' character (got {endpoint!r}):"
                " dots separate blueprint names from endpoints."
            )
        if view_func is not None and "." in getattr(view_func, "__name__", ""):
            raise ValueError(
                f"'view_func' name may not contain a dot '.' character (got"
                f" {view_func.__name__!r}). Pass an 'endpoint' without dots."
            )
        self.record(
            lambda s: s.add_url_rule(
                rule,
                endpoint,
                view_func,
                provide_automatic_options=provide_automatic_options,
                **options,
            )
        )

    # -- static files and resources ---------------------------------------------

    # -- hooks for every request of the app ---------------------------------------

    @setupmethod
    def before_app_request(self, f: _F) -> _F:
        """Like :meth:`before_request`, for every request of the app."""
        self.record_once(lambda s: s.app.before_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def after_app_request(self, f: _F) -> _F:
        """Like :meth:`after_request`, for every request of the app."""
        self.record_once(lambda s: s.app.after_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def teardown_app_request(self, f: _F) -> _F:
        """Like :meth:`teardown_request`, for every request of the app."""
        self.record_once(lambda s: s.app.teardown_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def app_context_processor(self, f: _F) -> _F:
        """Like :meth:`context_processor`, for every template of the app."""
        self.record_once(lambda s: s.app.template_context_processors.setdefault(None, []).append(f))
        return f

    @setupmethod
    def app_errorhandler(
        self, code_or_exception: type[BaseException] | int
    ) -> cabc.Callable[[_F], _F]:
        """Like :meth:`errorhandler`, for errors of every request of the app."""

        def decorator(f: _F) -> _F:
            def from_blueprint(state: BlueprintSetupState) -> None:
                state.app.errorhandler(code_or_exception)(f)

            self.record_once(from_blueprint)
            return f

        return decorator

    @setupmethod
    def app_url_value_preprocessor(self, f: _F) -> _F:
        """Like :meth:`url_value_preprocessor`, for every request of the app."""
        self.record_once(lambda s: s.app.url_value_preprocessors.setdefault(None, []).append(f))
        return f

    @setupmethod
    def app_url_defaults(self, f: _F) -> _F:
        """Like :meth:`url_defaults`, for every URL the app builds."""
        self.record_once(lambda s: s.app.url_default_functions.setdefault(None, []).append(f))
        return f

    # -- template filters, tests and globals for the whole app --------------------

    @t.overload
    def app_template_filter(self, name: _F) -> _F: ...
    @t.overload
    def app_template_filter(self, name: str | None = None) -> cabc.Callable[[_F], _F]: ...
    @setupmethod
    def app_template_filter(self, name: t.Any = None) -> t.Any:
        """Register the decorated function as a Jinja filter of the app.

        Works bare (``@bp.app_template_filter``) and called (``("reverse")``).
        """
        return self._template_decorator(self.add_app_template_filter, name)

    @setupmethod
    def add_app_template_filter(
        self, f: cabc.Callable[..., t.Any], name: str | None = None
    ) -> None:
        """Register ``f`` as a Jinja filter of the app, named ``name`` or after ``f``."""
        self.record_once(lambda s: _app(s).add_template_filter(f, name=name))

    @t.overload
    def app_template_test(self, name: _F) -> _F: ...
    @t.overload
    def app_template_test(self, name: str | None = None) -> cabc.Callable[[_F], _F]: ...
    @setupmethod
    def app_template_test(self, name: t.Any = None) -> t.Any:
        """Register the decorated function as a Jinja test of the app."""
        return self._template_decorator(self.add_app_template_test, name)

    @setupmethod
    def add_app_template_test(self, f: cabc.Callable[..., bool], name: str | None = None) -> None:
        """Register ``f`` as a Jinja test of the app, named ``name`` or after ``f``."""
        self.record_once(lambda s: _app(s).add_template_test(f, name=name))

    @t.overload
    def app_template_global(self, name: _F) -> _F: ...
    @t.overload
    def app_template_global(self, name: str | None = None) -> cabc.Callable[[_F], _F]: ...
    @setupmethod
    def app_template_global(self, name: t.Any = None) -> t.Any:
        """Register the decorated function as a Jinja global of the app."""
        return self._template_decorator(self.add_app_template_global, name)

    @setupmethod
    def add_app_template_global(
        self, f: cabc.Callable[..., t.Any], name: str | None = None
    ) -> None:
        """Register ``f`` as a Jinja global of the app, named ``name`` or after ``f``."""
        self.record_once(lambda s: _app(s).add_template_global(f, name=name))

    @staticmethod
    def _template_decorator(
        add: cabc.Callable[[cabc.Callable[..., t.Any], str | None], None], name: t.Any
    ) -> t.Any:
        if callable(name):
            add(name, None)
            return name

        def decorator(f: _F) -> _F:
            add(f, name)
            return f

        return decorator


def _app(state: BlueprintSetupState) -> t.Any:
    # The app's template registration methods come from the templating mixin.
    return state.app
