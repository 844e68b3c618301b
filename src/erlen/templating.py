"""Jinja2 templates the way Flask users know them: ``render_template`` and friends.

The app owns one :class:`Environment`, created on first use. Templates are
looked up in the app's ``templates`` folder, then in each blueprint's, in
registration order. Every render sees ``config``, ``request``, ``session``,
``g``, ``url_for`` and ``get_flashed_messages``, plus what the context
processors add.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
from functools import cached_property

import jinja2
from markupsafe import Markup

from .globals import _app_ctx
from .globals import _ctx_get
from .globals import g
from .globals import request
from .globals import session
from .helpers import stream_with_context
from .scaffold import setupmethod
from .signals import before_render_template
from .signals import template_rendered

if t.TYPE_CHECKING:
    from .app import Erlen
    from .ctx import RequestContext

_TF = t.TypeVar("_TF", bound=cabc.Callable[..., t.Any])

_AUTOESCAPE_EXTENSIONS = (".html", ".htm", ".xml", ".xhtml", ".svg")


def _mixin(app: Erlen) -> TemplatingMixin:
    # The app seen through this module's mixin, so mypy knows its methods.
    return t.cast("TemplatingMixin", app)


class Environment(jinja2.Environment):
    """A Jinja environment that belongs to an app.

    Unless ``loader`` is given, it loads templates through the app's
    :meth:`~TemplatingMixin.create_global_jinja_loader` (the app's folder, then
    the blueprints').
    """

    def __init__(self, app: Erlen, **options: t.Any) -> None:
        if "loader" not in options:
            options["loader"] = _mixin(app).create_global_jinja_loader()
        super().__init__(**options)
        #: The app this environment renders for.
        self.app = app


class DispatchingJinjaLoader(jinja2.BaseLoader):
    """Loads a template from the app's loader, else from each blueprint's, in order.

    The first loader that has the name wins, so an app template overrides a
    blueprint template of the same name (Flask's lookup order).
    """

    def __init__(self, app: Erlen) -> None:
        self.app = app

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, cabc.Callable[[], bool] | None]:
        if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
            return self._get_source_explained(environment, template)
        for _owner, loader in self._iter_loaders():
            try:
                return loader.get_source(environment, template)
            except jinja2.TemplateNotFound:
                continue
        raise jinja2.TemplateNotFound(template)

    def _get_source_explained(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, cabc.Callable[[], bool] | None]:
        # Try every loader (even after a match) and log what each one said.
        attempts: list[tuple[t.Any, jinja2.BaseLoader, str | None]] = []
        found: tuple[str, str | None, cabc.Callable[[], bool] | None] | None = None
        for owner, loader in self._iter_loaders():
            try:
                source = loader.get_source(environment, template)
            except jinja2.TemplateNotFound:
                attempts.append((owner, loader, None))
                continue
            attempts.append((owner, loader, source[1] or "<no filename>"))
            if found is None:
                found = source
        _explain_attempts(self.app, template, attempts)
        if found is None:
            raise jinja2.TemplateNotFound(template)
        return found

    def _iter_loaders(self) -> cabc.Iterator[tuple[t.Any, jinja2.BaseLoader]]:
        app = self.app
        loader = app.jinja_loader
        if loader is not None:
            yield app, loader
        for blueprint in app.iter_blueprints():
            loader = blueprint.jinja_loader
            if loader is not None:
                yield blueprint, loader

    def list_templates(self) -> list[str]:
        """The names of all templates the app and its blueprints provide."""
        names: set[str] = set()
        for _owner, loader in self._iter_loaders():
            names.update(loader.list_templates())
        return sorted(names)


def _explain_attempts(
    app: Erlen, template: str, attempts: list[tuple[t.Any, jinja2.BaseLoader, str | None]]
) -> None:
    # EXPLAIN_TEMPLATE_LOADING: one INFO record per lookup, listing every loader tried.
    lines = [f"Locating template {template!r}:"]
    for number, (owner, loader, filename) in enumerate(attempts, 1):
        if owner is app:
            what = f"application {app.import_name!r}"
        else:
            what = f"blueprint {getattr(owner, 'name', owner)!r}"
            import_name = getattr(owner, "import_name", None)
            if import_name is not None:
                what += f" ({import_name})"
        lines.append(f"  {number}: trying loader of {what}")
        lines.append(f"     class: {type(loader).__module__}.{type(loader).__name__}")
        lines.append(f"     found ({filename!r})" if filename is not None else "     no match")
    matches = sum(1 for _, _, filename in attempts if filename is not None)
    if not attempts:
        lines.append(
            "Error: no loader to try. Give the app or a blueprint a template_folder that exists."
        )
    elif matches == 0:
        lines.append(
            "Error: the template could not be found. Check its name and that it sits in"
            " the templates folder of the app or of a registered blueprint."
        )
        ctx = _ctx_get(None)
        blueprint = ctx.request.blueprint if ctx is not None and ctx.request is not None else None
        if blueprint is not None:
            lines.append(
                f"  The lookup came from a view of blueprint {blueprint!r}. All template"
                " folders share one namespace, searched from the app's: a blueprint"
                " template is found by its path inside its folder (usually"
                f" '{blueprint.rpartition('.')[2]}/{template}' for a subfolder named after"
                " the blueprint)."
            )
    elif matches > 1:
        lines.append(
            "Warning: more than one loader has this template; the first one above is"
            " used. Put blueprint templates in a subfolder named after the blueprint"
            " to keep names apart."
        )
    app.logger.info("%s", "\n".join(lines))


def select_jinja_autoescape(filename: str | None) -> bool:
    """Whether to autoescape a template: HTML, XML and SVG files, and string templates."""
    if filename is None:
        return True
    return filename.endswith(_AUTOESCAPE_EXTENSIONS)


def _make_tojson(app: Erlen) -> cabc.Callable[..., Markup]:
    def tojson(value: t.Any, indent: int | None = None) -> Markup:
        """``value`` as JSON that is safe inside HTML, ``<script>`` and attributes.

        Uses the app's JSON provider; ``<``, ``>``, ``&`` and ``'`` become
        ``\\u`` escapes, so the result cannot close a tag or an attribute.
        """
        text = app.json.dumps(value) if indent is None else app.json.dumps(value, indent=indent)
        return Markup(
            text.replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
            .replace("'", "\\u0027")
        )

    return tojson


def create_jinja_environment(app: Erlen) -> Environment:
    """A new :class:`Environment` for ``app``, with Flask's options, globals and filters.

    Options come from ``app.jinja_options``; ``autoescape`` defaults to
    ``app.select_jinja_autoescape`` and ``auto_reload`` to
    ``TEMPLATES_AUTO_RELOAD`` (or debug mode when that is None).
    """
    from .flashing import get_flashed_messages

    mixin = _mixin(app)
    options = dict(mixin.jinja_options)
    if "autoescape" not in options:
        options["autoescape"] = mixin.select_jinja_autoescape
    if "auto_reload" not in options:
        options["auto_reload"] = mixin.templates_auto_reload
    env = mixin.jinja_environment(app, **options)
    env.globals.update(
        url_for=app.url_for,
        get_flashed_messages=get_flashed_messages,
        config=app.config,
        request=request,
        session=session,
        g=g,
    )
    env.filters["tojson"] = _make_tojson(app)
    env.policies["json.dumps_function"] = app.json.dumps
    return env


def update_template_context(app: Erlen, context: dict[str, t.Any]) -> None:
    """Add the context processors' names and ``g``/``request``/``session`` to ``context``.

    The app's processors run first, then those of the request's blueprints,
    outermost first, so inner ones win. Names already in ``context`` (the
    caller's) win over all of them.
    """
    processors = app.template_context_processors
    # PERF: an app without context processors pays for no copy and no lookup
    # of the request's blueprints (benchmarks/ template).
    if processors:
        ctx = _ctx_get(None)
        names: list[str | None] = [None]
        if ctx is not None and ctx.request is not None and len(processors) > (None in processors):
            names.extend(reversed(ctx.request.blueprints))
        original = dict(context)
        for name in names:
            funcs = processors.get(name)
            if funcs:
                for func in funcs:
                    context.update(app.ensure_sync(func)())
        context.update(original)
    ctx = _ctx_get(None)
    if ctx is None:
        return
    if "g" not in context:
        context["g"] = ctx.g
    req = ctx.request
    if req is not None:
        if "request" not in context:
            context["request"] = req
        if "session" not in context:
            # PERF: an unopened session stays unopened (no cookie parsing) until
            # the template uses it; the proxy opens it then.
            opened = t.cast("RequestContext", ctx)._session
            context["session"] = opened if opened is not None else session


def _render(app: Erlen, template: jinja2.Template, context: dict[str, t.Any]) -> str:
    _mixin(app).update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    rv = template.render(context)
    if template_rendered.receivers:
        template_rendered.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    return rv


def _stream(app: Erlen, template: jinja2.Template, context: dict[str, t.Any]) -> cabc.Iterator[str]:
    _mixin(app).update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )

    def generate() -> cabc.Iterator[str]:
        yield from template.generate(context)
        if template_rendered.receivers:
            template_rendered.send(
                app, _async_wrapper=app.ensure_sync, template=template, context=context
            )

    rv = generate()
    ctx = _ctx_get(None)
    if ctx is not None and ctx.request is not None:
        return stream_with_context(rv)
    return rv


def render_template(
    template_name_or_list: str | jinja2.Template | list[str | jinja2.Template],
    **context: t.Any,
) -> str:
    """Render a template from the templates folders with ``context``.

    With a list, the first template that exists is used. Needs an app context.
    """
    app = _app_ctx().app
    template = _mixin(app).jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def render_template_string(source: str, **context: t.Any) -> str:
    """Render template ``source`` (a string, autoescaped) with ``context``."""
    app = _app_ctx().app
    template = _mixin(app).jinja_env.from_string(source)
    return _render(app, template, context)


def stream_template(
    template_name_or_list: str | jinja2.Template | list[str | jinja2.Template],
    **context: t.Any,
) -> cabc.Iterator[str]:
    """Render a template piece by piece, as an iterator for a streamed response.

    Inside a request the request context stays active until the stream ends.
    """
    app = _app_ctx().app
    template = _mixin(app).jinja_env.get_or_select_template(template_name_or_list)
    return _stream(app, template, context)


def stream_template_string(source: str, **context: t.Any) -> cabc.Iterator[str]:
    """Like :func:`stream_template`, for template ``source`` given as a string."""
    app = _app_ctx().app
    template = _mixin(app).jinja_env.from_string(source)
    return _stream(app, template, context)


def get_template_attribute(template_name: str, attribute: str) -> t.Any:
    """A macro or variable a template defines, to call it from Python.

    ``get_template_attribute("_macros.html", "hello")("World")``
    """
    app = _app_ctx().app
    return getattr(_mixin(app).jinja_env.get_template(template_name).module, attribute)


class TemplatingMixin:
    """The app's templating API, mixed into :class:`~erlen.app.Erlen`."""

    #: Options for the Jinja environment; change them before it is first used.
    jinja_options: dict[str, t.Any] = {}
    #: The environment class :meth:`create_jinja_environment` instantiates.
    jinja_environment: type[Environment] = Environment

    @cached_property
    def jinja_env(self) -> Environment:
        """The app's Jinja environment, created on first use."""
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> Environment:
        """Create the environment behind :attr:`jinja_env`; override to customise it."""
        return create_jinja_environment(t.cast("Erlen", self))

    def create_global_jinja_loader(self) -> DispatchingJinjaLoader:
        """The loader of the environment: the app's templates, then the blueprints'."""
        return DispatchingJinjaLoader(t.cast("Erlen", self))

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Whether a template is autoescaped: ``.html .htm .xml .xhtml .svg`` and strings."""
        return select_jinja_autoescape(filename)

    def update_template_context(self, context: dict[str, t.Any]) -> None:
        """Add context processor values to ``context``; its own values win."""
        update_template_context(t.cast("Erlen", self), context)

    @property
    def templates_auto_reload(self) -> bool:
        """Reload templates changed on disk: ``TEMPLATES_AUTO_RELOAD``, else debug mode."""
        app = t.cast("Erlen", self)
        value = app.config["TEMPLATES_AUTO_RELOAD"]
        return bool(value) if value is not None else app.debug

    @templates_auto_reload.setter
    def templates_auto_reload(self, value: bool | None) -> None:
        t.cast("Erlen", self).config["TEMPLATES_AUTO_RELOAD"] = value
        env = self.__dict__.get("jinja_env")
        if env is not None:
            env.auto_reload = self.templates_auto_reload

    # -- filters, tests, globals ----------------------------------------------

    @t.overload
    def template_filter(self, name: _TF) -> _TF: ...
    @t.overload
    def template_filter(self, name: str | None = None) -> cabc.Callable[[_TF], _TF]: ...
    @setupmethod
    def template_filter(self, name: t.Any = None) -> t.Any:
        """Register the decorated function as a Jinja filter (named ``name`` or after it).

        Works bare (``@app.template_filter``) and called
        (``@app.template_filter("reverse")``).
        """
        if callable(name):
            self.add_template_filter(name)
            return name

        def decorator(f: _TF) -> _TF:
            self.add_template_filter(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_filter(self, f: cabc.Callable[..., t.Any], name: str | None = None) -> None:
        """Register ``f`` as a Jinja filter, named ``name`` or after the function."""
        self.jinja_env.filters[name or f.__name__] = f

    @t.overload
    def template_test(self, name: _TF) -> _TF: ...
    @t.overload
    def template_test(self, name: str | None = None) -> cabc.Callable[[_TF], _TF]: ...
    @setupmethod
    def template_test(self, name: t.Any = None) -> t.Any:
        """Register the decorated function as a Jinja test (``{% if x is name %}``)."""
        if callable(name):
            self.add_template_test(name)
            return name

        def decorator(f: _TF) -> _TF:
            self.add_template_test(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_test(self, f: cabc.Callable[..., bool], name: str | None = None) -> None:
        """Register ``f`` as a Jinja test, named ``name`` or after the function."""
        self.jinja_env.tests[name or f.__name__] = f

    @t.overload
    def template_global(self, name: _TF) -> _TF: ...
    @t.overload
    def template_global(self, name: str | None = None) -> cabc.Callable[[_TF], _TF]: ...
    @setupmethod
    def template_global(self, name: t.Any = None) -> t.Any:
        """Register the decorated function as a name every template can use."""
        if callable(name):
            self.add_template_global(name)
            return name

        def decorator(f: _TF) -> _TF:
            self.add_template_global(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_global(self, f: cabc.Callable[..., t.Any], name: str | None = None) -> None:
        """Make ``f`` available in every template, as ``name`` or the function's name."""
        self.jinja_env.globals[name or f.__name__] = f
