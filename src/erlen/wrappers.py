"""The request and response classes an app uses: erlen.http's, aware of the app.

They add what only an app knows: the matched rule and view arguments, the blueprint,
and limits and JSON handling taken from the app's config.
"""

from __future__ import annotations

import typing as t

from .globals import _ctx_get
from .http.exceptions import BadRequest
from .http.request import Request as _HTTPRequest
from .http.response import Response as _HTTPResponse

if t.TYPE_CHECKING:
    from .routing import Rule


def _config(key: str, default: t.Any) -> t.Any:
    ctx = _ctx_get(None)
    if ctx is None:
        return default
    return ctx.app.config.get(key, default)


_LIMITS = ("max_content_length", "max_form_memory_size", "max_form_parts")


class Request(_HTTPRequest):
    """The request object the app sees as ``request``."""

    #: The rule that matched, set by the app after routing.
    url_rule: Rule | None = None
    #: The arguments the rule matched, ``None`` until routing succeeded.
    view_args: dict[str, t.Any] | None = None
    #: The routing error (404, 405, redirect) if matching failed; raised at dispatch.
    routing_exception: Exception | None = None

    # PERF: no t.cast in these: it is a function call on every access.

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        """``MAX_CONTENT_LENGTH`` of the current app."""
        value: int | None = _config("MAX_CONTENT_LENGTH", None)
        return value

    @property
    def max_form_memory_size(self) -> int | None:  # type: ignore[override]
        """``MAX_FORM_MEMORY_SIZE`` of the current app."""
        value: int | None = _config("MAX_FORM_MEMORY_SIZE", 500_000)
        return value

    @property
    def max_form_parts(self) -> int | None:  # type: ignore[override]
        """``MAX_FORM_PARTS`` of the current app."""
        value: int | None = _config("MAX_FORM_PARTS", 1_000)
        return value

    def _form_limits(self) -> tuple[int | None, int | None, int | None]:
        # PERF: the three limits with one context lookup, for the direct form
        # path (benchmarks/run.py --scenarios form). A subclass that overrides
        # one of the properties gets the generic version back (__init_subclass__).
        # Subscripts, not config.get: ~400 instructions less
        # (benchmarks/instructions.py form); an app's config has all three
        # unless they were deleted from it.
        ctx = _ctx_get(None)
        if ctx is None:
            return None, 500_000, 1_000
        config = ctx.app.config
        try:
            return (
                config["MAX_CONTENT_LENGTH"],
                config["MAX_FORM_MEMORY_SIZE"],
                config["MAX_FORM_PARTS"],
            )
        except KeyError:
            return (
                config.get("MAX_CONTENT_LENGTH", None),
                config.get("MAX_FORM_MEMORY_SIZE", 500_000),
                config.get("MAX_FORM_PARTS", 1_000),
            )

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if any(getattr(cls, name) is not getattr(Request, name) for name in _LIMITS):
            cls._form_limits = _HTTPRequest._form_limits  # type: ignore[method-assign]

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the matched rule."""
        rule = self.url_rule
        return rule.endpoint if rule is not None else None

    @property
    def blueprint(self) -> str | None:
        """The name of the blueprint the endpoint belongs to (dotted when nested)."""
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The current blueprint and its parents, innermost first."""
        name = self.blueprint
        if name is None:
            return []
        parts = name.split(".")
        return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]

    def json_loads(self, data: bytes) -> t.Any:
        ctx = _ctx_get(None)
        if ctx is not None:
            return ctx.app.json.loads(data)
        return super().json_loads(data)

    def on_json_loading_failed(self, e: BaseException | None) -> t.Any:
        try:
            return super().on_json_loading_failed(e)
        except BadRequest as ebr:
            ctx = _ctx_get(None)
            if ctx is not None and ctx.app.debug:
                raise
            raise BadRequest() from ebr


class Response(_HTTPResponse):
    """The response class of an app: HTML by default, as in Flask."""

    default_mimetype = "text/html"

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """``MAX_COOKIE_SIZE`` of the current app."""
        return t.cast(int, _config("MAX_COOKIE_SIZE", 4093))
