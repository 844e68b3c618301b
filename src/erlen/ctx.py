"""App and request contexts: what ``current_app``, ``g`` and ``request`` point at.

A :class:`RequestContext` is an :class:`AppContext` that also carries a request,
so handling a request sets one context variable, not two. When a request context
is pushed inside an app context of the same app, it shares that context's ``g``
and leaves its teardown to it, as Flask does.
"""

from __future__ import annotations

import collections.abc as cabc
import contextvars
import functools
import sys
import typing as t
from types import TracebackType

from .globals import _ctx_get
from .globals import _ctx_reset
from .globals import _ctx_set
from .globals import _request_ctx
from .signals import appcontext_popped
from .signals import appcontext_pushed
from .signals import appcontext_tearing_down
from .signals import request_tearing_down

if t.TYPE_CHECKING:
    from .app import Erlen
    from .routing import MapAdapter
    from .sessions import SessionMixin
    from .wrappers import Request
    from .wrappers import Response

_sentinel: t.Any = object()
# Shared by contexts until after_this_request gives one its own list
# (a tuple, so nothing can be appended to it for every request at once).
_NO_FUNCTIONS: tuple[t.Any, ...] = ()
_F = t.TypeVar("_F", bound=cabc.Callable[..., t.Any])


class _AppCtxGlobals:
    """The ``g`` namespace: a plain object for data that lives as long as one app context."""

    def get(self, name: str, default: t.Any = None) -> t.Any:
        """The attribute ``name``, or ``default``."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: t.Any = _sentinel) -> t.Any:
        """Remove ``name`` and return it (``default`` if missing, else ``KeyError``)."""
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: t.Any = None) -> t.Any:
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> cabc.Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        ctx = _ctx_get(None)
        if ctx is not None:
            return f"<erlen.g of '{ctx.app.name}'>"
        return object.__repr__(self)


class AppContext:
    """Makes ``current_app`` and ``g`` available; pushed for every request and CLI command."""

    #: Set on request contexts only; ``None`` here.
    request: Request | None = None
    _url_adapter: MapAdapter | None = _sentinel

    def __init__(self, app: Erlen) -> None:
        self.app = app
        self._tokens: list[contextvars.Token[AppContext]] = []

    @property
    def g(self) -> _AppCtxGlobals:
        """The ``g`` namespace, created on first use."""
        # PERF: most requests never touch g; don't build one for them.
        g = self.__dict__.get("_g")
        if g is None:
            g = self.__dict__["_g"] = self.app.app_ctx_globals_class()
        return g

    @g.setter
    def g(self, value: _AppCtxGlobals) -> None:
        self.__dict__["_g"] = value

    @property
    def url_adapter(self) -> MapAdapter | None:
        """URL adapter for building URLs (outside a request it needs ``SERVER_NAME``)."""
        if self._url_adapter is _sentinel:
            self._url_adapter = self.app.create_url_adapter(self.request)
        return self._url_adapter

    @url_adapter.setter
    def url_adapter(self, value: MapAdapter | None) -> None:
        self._url_adapter = value

    def push(self) -> None:
        """Make this the active context."""
        self._tokens.append(_ctx_set(self))
        if appcontext_pushed.receivers:
            appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:
        """Deactivate this context; the last pop runs the teardown_appcontext functions."""
        try:
            if len(self._tokens) == 1:
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                self.app.do_teardown_appcontext(exc)
        finally:
            ctx = _ctx_get(None)
            token = self._tokens.pop()
            _ctx_reset(token)
        if ctx is not self:
            raise AssertionError(f"Popped wrong app context. ({ctx!r} instead of {self!r})")
        if appcontext_popped.receivers:
            appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)

    def __enter__(self) -> t.Self:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.app.name!r}>"


class RequestContext(AppContext):
    """The context of one request: ``request``, ``session`` and the app context around them."""

    request: Request
    #: Messages loaded by ``get_flashed_messages`` for this request.
    flashes: list[tuple[str, str]] | None = None

    def __init__(
        self,
        app: Erlen,
        environ: dict[str, t.Any] | None = None,
        request: Request | None = None,
        session: SessionMixin | None = None,
    ) -> None:
        if request is None:
            if environ is None:
                raise TypeError("RequestContext needs a WSGI environ or a request.")
            request = app.request_from_environ(environ)
        # PERF: built for every request; only plain assignments here. ``g`` is
        # decided at push time (it may be shared with an outer app context).
        # What every request reads is an instance attribute, not a class-level
        # default: on CPython 3.11 reading a class attribute through an
        # instance costs ~3x more (pushpop + handle: ~1k instructions fewer,
        # benchmarks/instructions.py).
        self.app = app
        self.request = request
        self._tokens = []
        self._session: SessionMixin | None = session
        self._after_request_functions: cabc.Sequence[cabc.Callable[[Response], Response]] = (
            _NO_FUNCTIONS
        )
        self._owns_app_context = True
        self._torn_down = False

    @property
    def session(self) -> SessionMixin:
        """The session, opened on first access so requests that never use it pay nothing."""
        session = self._session
        if session is None:
            session = self._session = self.app._open_session(self.request)
        return session

    @session.setter
    def session(self, value: SessionMixin | None) -> None:
        self._session = value

    def push(self) -> None:
        """Make this the active context, sharing ``g`` with an outer context of the same app."""
        tokens = self._tokens
        if not tokens:
            outer = _ctx_get(None)
            if outer is not None and outer.app is self.app:
                self.g = outer.g
                self._owns_app_context = False
        tokens.append(_ctx_set(self))
        if appcontext_pushed.receivers and self._owns_app_context:
            appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:
        """Deactivate; the last pop runs teardown_request (and teardown_appcontext if owned)."""
        tokens = self._tokens
        last = len(tokens) == 1
        try:
            # A context re-pushed after its end (the test client keeps the last
            # one for inspection) is torn down only once.
            if last and not self._torn_down:
                self._torn_down = True
                # PERF: one flag, settled at the first request, stands for the
                # teardown functions and the request's own close() (hello: push
                # and pop 11.5k -> 10k instructions, benchmarks/instructions.py).
                if (
                    self.app._teardown_work
                    or self.request._needs_close
                    or request_tearing_down.receivers
                    or appcontext_tearing_down.receivers
                ):
                    self._tear_down(exc)
        finally:
            ctx = _ctx_get(None)
            _ctx_reset(tokens.pop())
        if ctx is not self:
            raise AssertionError(f"Popped wrong request context. ({ctx!r} instead of {self!r})")
        if last and appcontext_popped.receivers and self._owns_app_context:
            appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)

    def _tear_down(self, exc: BaseException | None) -> None:
        app = self.app
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        if app._has_teardown_request or request_tearing_down.receivers:
            app.do_teardown_request(exc)
        if self.request._needs_close:
            self.request.close()
        if self._owns_app_context and (
            app._has_teardown_appcontext or appcontext_tearing_down.receivers
        ):
            app.do_teardown_appcontext(exc)

    def copy(self) -> RequestContext:
        """A new context for the same request and session (for another thread or task)."""
        return self.__class__(self.app, request=self.request, session=self._session)

    def __repr__(self) -> str:
        request = self.request
        return f"<{type(self).__name__} {request.url!r} [{request.method}] of {self.app.name!r}>"


def has_app_context() -> bool:
    """Whether an app context (or a request context) is active."""
    return _ctx_get(None) is not None


def has_request_context() -> bool:
    """Whether a request context is active."""
    ctx = _ctx_get(None)
    return ctx is not None and ctx.request is not None


def after_this_request(f: _F) -> _F:
    """Run ``f(response)`` after this request, before the after_request hooks of the app.

    ``f`` must return the response (or a new one).
    """
    ctx = _ctx_get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(
            "'after_this_request' can only be used when a request context is active,"
            " such as in a view function."
        )
    request_ctx = t.cast(RequestContext, ctx)
    functions = request_ctx._after_request_functions
    if not isinstance(functions, list):
        functions = request_ctx._after_request_functions = []
    functions.append(f)
    return f


def copy_current_request_context(f: _F) -> _F:
    """Decorate ``f`` so it runs in a copy of the current request context.

    For work handed to another thread or greenlet, where the context is not
    otherwise visible. The copy shares ``request`` and ``session``.
    """
    ctx = _ctx_get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(
            "'copy_current_request_context' can only be used when a request context is"
            " active, such as in a view function."
        )
    copied = _request_ctx().copy()

    @functools.wraps(f)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        with copied:
            return copied.app.ensure_sync(f)(*args, **kwargs)

    return t.cast(_F, wrapper)
