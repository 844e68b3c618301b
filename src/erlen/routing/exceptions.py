"""Routing exceptions: redirects the router asks for, and build failures."""

from __future__ import annotations

import collections.abc as cabc
import difflib
import typing as t

from erlen.http.exceptions import BadRequest
from erlen.http.exceptions import HTTPException

if t.TYPE_CHECKING:
    from .map import MapAdapter
    from .rules import Rule

__all__ = [
    "BuildError",
    "NoMatch",
    "RequestRedirect",
    "RoutingException",
    "WebsocketMismatch",
]


class RoutingException(Exception):
    """Base of the exceptions the router raises for flow control."""


class RequestRedirect(HTTPException, RoutingException):
    """The URL matched, but its canonical form is ``new_url``: redirect there.

    Raised for a missing trailing slash, merged slashes, ``redirect_to``
    rules and URLs spelling out default values. 308 keeps the method and body.
    """

    code = 308

    def __init__(self, new_url: str) -> None:
        super().__init__(f"Redirecting to {new_url}.")
        self.new_url = new_url

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        headers.append(("Location", self.new_url))
        return headers


class RequestPath(RoutingException):
    """Internal: match again at ``path_info`` (slash added or merged)."""

    def __init__(self, path_info: str) -> None:
        super().__init__(path_info)
        self.path_info = path_info


class RequestAliasRedirect(RoutingException):  # noqa: B903
    """Internal: an alias rule matched; redirect to its canonical URL."""

    def __init__(self, matched_values: dict[str, t.Any], endpoint: t.Any) -> None:
        super().__init__(matched_values, endpoint)
        self.matched_values = matched_values
        self.endpoint = endpoint


class NoMatch(RoutingException):
    """No rule matched; says which methods did match the path, if any."""

    def __init__(
        self, have_match_for: set[str] | None = None, websocket_mismatch: bool = False
    ) -> None:
        super().__init__(have_match_for, websocket_mismatch)
        self.have_match_for = have_match_for or set()
        self.websocket_mismatch = websocket_mismatch


class WebsocketMismatch(BadRequest):
    """The URL matched only rules of the other kind (WebSocket versus HTTP)."""

    description = (
        "The URL exists, but not for this kind of request: it is served over"
        " WebSocket only, or over HTTP only."
    )


class BuildError(RoutingException, LookupError):
    """No rule of the endpoint can build a URL from the given values.

    The message names the endpoint and suggests the likely fix: a similar
    endpoint name, the missing values, or the methods the rule allows.
    """

    def __init__(
        self,
        endpoint: t.Any,
        values: cabc.Mapping[str, t.Any] | None,
        method: str | None,
        adapter: MapAdapter | None = None,
    ) -> None:
        super().__init__(endpoint, values, method)
        self.endpoint = endpoint
        self.values = dict(values or {})
        self.method = method
        self.adapter = adapter

    @property
    def suggested(self) -> Rule | None:
        """The rule closest to what was asked for, if any."""
        if self.adapter is None:
            return None
        url_map = self.adapter.map
        same = url_map._rules_by_endpoint.get(self.endpoint)
        if same:
            given = set(self.values)

            def score(rule: Rule) -> tuple[bool, bool, int]:
                method_ok = self.method is None or (
                    rule.methods is None or self.method in rule.methods
                )
                missing = rule.arguments - set(rule.defaults or ()) - given
                return (method_ok, not missing, -len(missing))

            return max(same, key=score)
        names = {str(e): e for e in url_map._rules_by_endpoint}
        close = difflib.get_close_matches(str(self.endpoint), list(names), n=1)
        if close:
            return url_map._rules_by_endpoint[names[close[0]]][0]
        return None

    def __str__(self) -> str:
        message = [f"Could not build url for endpoint {self.endpoint!r}"]
        if self.method:
            message.append(f" ({self.method!r})")
        if self.values:
            message.append(f" with values {sorted(self.values)!r}")
        message.append(".")
        rule = self.suggested
        if rule is None:
            if self.adapter is not None:
                message.append(
                    " No rule has this endpoint; check the endpoint name (it is"
                    " 'blueprint.function' inside a blueprint)."
                )
        elif rule.endpoint != self.endpoint:
            message.append(f" Did you mean {rule.endpoint!r} instead?")
        else:
            if self.method and rule.methods and self.method not in rule.methods:
                message.append(f" Did you mean to use methods {sorted(rule.methods)!r}?")
            missing = rule.arguments - set(rule.defaults or ()) - set(self.values)
            if missing:
                message.append(f" Did you forget to specify values {sorted(missing)!r}?")
            elif not (self.method and rule.methods and self.method not in rule.methods):
                message.append(
                    f" The values do not fit rule {rule.rule!r}: a value was"
                    " refused by its converter or differs from the rule's"
                    " defaults."
                )
        return "".join(message)
