"""The context-bound names: ``current_app``, ``g``, ``request``, ``session``.

One :class:`contextvars.ContextVar` holds the active context (an app context or
a request context, which is also an app context). The proxies look it up on
every use, so each thread and each asyncio task sees its own.

This module imports nothing from erlen at runtime, so any module may import it.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
from contextvars import ContextVar

if t.TYPE_CHECKING:
    from .app import Erlen
    from .ctx import AppContext
    from .ctx import RequestContext
    from .ctx import _AppCtxGlobals
    from .sessions import SessionMixin
    from .wrappers import Request

_no_app_msg = """\
Working outside of application context.

This typically means that you attempted to use functionality that needed
the current application. To solve this, set up an application context
with app.app_context(). See the documentation for more information.\
"""
_no_req_msg = """\
Working outside of request context.

This typically means that you attempted to use functionality that needed
an active HTTP request. Consult the documentation on testing for
information about how to avoid this problem.\
"""

#: The active context: an :class:`~erlen.ctx.AppContext` or a
#: :class:`~erlen.ctx.RequestContext` (a subclass of it).
_cv_ctx: ContextVar[AppContext] = ContextVar("erlen.ctx")
# COMPAT: Flask exposes these two names; both read the single variable above.
_cv_app = _cv_ctx
_cv_request = _cv_ctx


def _app_ctx() -> AppContext:
    try:
        return _cv_ctx.get()
    except LookupError:
        raise RuntimeError(_no_app_msg) from None


def _request_ctx() -> RequestContext:
    try:
        ctx = _cv_ctx.get()
    except LookupError:
        raise RuntimeError(_no_req_msg) from None
    if ctx.request is None:
        raise RuntimeError(_no_req_msg)
    return ctx  # type: ignore[return-value]  # a context with a request is a RequestContext


class _Proxy:
    """Forwards every operation to the object the active context holds.

    Thin on purpose: one context-variable read and one attribute access per use.
    """

    __slots__ = ("_erlen_get", "_erlen_attr", "_erlen_msg")

    def __init__(
        self,
        get: cabc.Callable[[], t.Any],
        attr: str | None = None,
        message: str = _no_app_msg,
    ) -> None:
        object.__setattr__(self, "_erlen_get", get)
        #: The context attribute holding the target, when it is that simple.
        object.__setattr__(self, "_erlen_attr", attr)
        object.__setattr__(self, "_erlen_msg", message)

    def _get_current_object(self) -> t.Any:
        """The real object behind the proxy, e.g. to send it to another thread."""
        return self._erlen_get()

    # PERF: only names missing on the proxy reach __getattr__, which is every
    # attribute of the target; no per-attribute descriptors are involved. For
    # request and current_app the lookup is inlined (one Python frame per use,
    # not two: benchmarks/ query reads request.args twice).
    def __getattr__(self, name: str) -> t.Any:
        attr = self._erlen_attr
        if attr is None:
            return getattr(self._erlen_get(), name)
        try:
            target = getattr(_cv_ctx.get(), attr)
        except LookupError:
            raise RuntimeError(self._erlen_msg) from None
        if target is None:
            raise RuntimeError(self._erlen_msg)
        return getattr(target, name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        setattr(self._erlen_get(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._erlen_get(), name)

    def __getitem__(self, key: t.Any) -> t.Any:
        return self._erlen_get()[key]

    def __setitem__(self, key: t.Any, value: t.Any) -> None:
        self._erlen_get()[key] = value

    def __delitem__(self, key: t.Any) -> None:
        del self._erlen_get()[key]

    def __contains__(self, key: t.Any) -> bool:
        return key in self._erlen_get()

    def __iter__(self) -> t.Iterator[t.Any]:
        return iter(self._erlen_get())

    def __len__(self) -> int:
        return len(self._erlen_get())

    def __bool__(self) -> bool:
        try:
            return bool(self._erlen_get())
        except RuntimeError:
            return False

    def __or__(self, other: t.Any) -> t.Any:
        return self._erlen_get() | other

    def __ror__(self, other: t.Any) -> t.Any:
        return other | self._erlen_get()

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return self._erlen_get()(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return bool(self._erlen_get() == other)

    def __ne__(self, other: object) -> bool:
        return bool(self._erlen_get() != other)

    def __hash__(self) -> int:
        return hash(self._erlen_get())

    def __str__(self) -> str:
        return str(self._erlen_get())

    def __repr__(self) -> str:
        try:
            obj = self._erlen_get()
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"
        return repr(obj)

    def __dir__(self) -> t.Iterable[str]:
        try:
            return dir(self._erlen_get())
        except RuntimeError:
            return []

    def __enter__(self) -> t.Any:
        return self._erlen_get().__enter__()

    def __exit__(self, *exc: t.Any) -> t.Any:
        return self._erlen_get().__exit__(*exc)

    @property  # type: ignore[misc]  # isinstance(request, Request) works as in Flask
    def __class__(self) -> type:
        try:
            return type(self._erlen_get())
        except RuntimeError:
            return _Proxy

    @property
    def __wrapped__(self) -> t.Any:
        return self._erlen_get()


def _get_app() -> Erlen:
    return _app_ctx().app


def _get_g() -> _AppCtxGlobals:
    return _app_ctx().g


def _get_request() -> Request:
    try:
        request = _cv_ctx.get().request
    except LookupError:
        raise RuntimeError(_no_req_msg) from None
    if request is None:
        raise RuntimeError(_no_req_msg)
    return request


def _get_session() -> SessionMixin:
    return _request_ctx().session


#: The application handling the current request or app context.
current_app: Erlen = t.cast("Erlen", _Proxy(_get_app, "app", _no_app_msg))
#: A namespace for data during one app context (one request).
g: _AppCtxGlobals = t.cast("_AppCtxGlobals", _Proxy(_get_g, "g", _no_app_msg))
#: The current request.
request: Request = t.cast("Request", _Proxy(_get_request, "request", _no_req_msg))
#: The current session.
session: SessionMixin = t.cast("SessionMixin", _Proxy(_get_session))
#: The active app context (also set while a request is handled).
app_ctx: AppContext = t.cast("AppContext", _Proxy(_app_ctx))
#: The active request context.
request_ctx: RequestContext = t.cast("RequestContext", _Proxy(_request_ctx))
