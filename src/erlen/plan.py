"""Per-endpoint plans: what the pipeline would otherwise work out on every request.

The first request freezes the app's setup (setup methods refuse to run after it),
so the hooks that apply to an endpoint, which blueprints it belongs to, and which
error handler catches which exception can be settled once and reused.
"""

from __future__ import annotations

import collections.abc as cabc
import inspect
import typing as t

if t.TYPE_CHECKING:
    from .app import Erlen

Func = cabc.Callable[..., t.Any]


class Plan:
    """The hooks and view one endpoint's requests run, in order."""

    __slots__ = (
        "endpoint",
        "view",
        "blueprints",
        "url_value_preprocessors",
        "before",
        "after",
        "has_async",
        "handler_cache",
    )

    def __init__(self, app: Erlen, endpoint: str | None) -> None:
        self.endpoint = endpoint
        self.view: Func | None = app.view_functions.get(endpoint) if endpoint else None
        #: The endpoint's blueprint and its parents, innermost first.
        self.blueprints: tuple[str, ...] = _blueprint_chain(endpoint)
        # COMPAT: Flask runs the app's functions, then each blueprint's from the
        # outermost in; after_request goes back out, last registered first.
        outward: tuple[str | None, ...] = (*self.blueprints, None)
        inward = tuple(reversed(outward))
        self.url_value_preprocessors: tuple[Func, ...] = _collect(
            app.url_value_preprocessors, inward
        )
        self.before: tuple[Func, ...] = _collect(app.before_request_funcs, inward)
        self.after: tuple[Func, ...] = tuple(
            f
            for name in outward
            if name in app.after_request_funcs
            for f in reversed(app.after_request_funcs[name])
        )
        self.has_async = any(
            inspect.iscoroutinefunction(f)
            for f in (self.view, *self.before, *self.after)
            if f is not None
        )
        #: Exception class -> handler (or None), filled on demand.
        self.handler_cache: dict[type[BaseException], Func | None] = {}


def _blueprint_chain(endpoint: str | None) -> tuple[str, ...]:
    if not endpoint or "." not in endpoint:
        return ()
    parts = endpoint.split(".")[:-1]
    return tuple(".".join(parts[:i]) for i in range(len(parts), 0, -1))


def _collect(
    registry: cabc.Mapping[str | None, list[Func]], names: tuple[str | None, ...]
) -> tuple[Func, ...]:
    return tuple(f for name in names if name in registry for f in registry[name])


def find_error_handler(app: Erlen, plan: Plan, e: BaseException) -> Func | None:
    """The handler for ``e``: blueprint scopes before the app, code before class, MRO order."""
    exc_class = type(e)
    cache = plan.handler_cache
    try:
        return cache[exc_class]
    except KeyError:
        pass
    code: int | None = getattr(e, "code", None)
    from .http.exceptions import HTTPException

    if not isinstance(e, HTTPException):
        code = None
    handler: Func | None = None
    spec = app.error_handler_spec
    for name in (*plan.blueprints, None):
        if name not in spec:
            continue
        handler_map = spec[name]
        for c in (code, None) if code is not None else (None,):
            if c not in handler_map:
                continue
            by_class = handler_map[c]
            for cls in exc_class.__mro__:
                found = by_class.get(cls)
                if found is not None:
                    handler = found
                    break
            if handler is not None:
                break
        if handler is not None:
            break
    cache[exc_class] = handler
    return handler
