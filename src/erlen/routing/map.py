"""``Map`` holds the rules; ``MapAdapter`` matches and builds for one request."""

from __future__ import annotations

import bisect
import collections.abc as cabc
import re
import threading
import typing as t
from urllib.parse import urljoin

from erlen.http._internal import UPPERCASE_METHODS
from erlen.http.exceptions import HTTPException
from erlen.http.exceptions import MethodNotAllowed
from erlen.http.exceptions import NotFound

from ._codegen import MatchFunc
from .converters import DEFAULT_CONVERTERS
from .converters import BaseConverter
from .converters import quote_path
from .exceptions import BuildError
from .exceptions import NoMatch
from .exceptions import RequestRedirect
from .exceptions import WebsocketMismatch
from .matcher import Matcher
from .matcher import SlashRequired
from .rules import Rule
from .rules import RuleFactory
from .rules import encode_query

__all__ = ["Map", "MapAdapter"]

_merge_slashes_re = re.compile("/{2,}")
_redirect_var_re = re.compile(r"<([^>]+)>")


class Map:
    """The set of URL rules of an application, with the converters they use.

    :param rules: rules (or rule factories) to add at once.
    :param default_subdomain: subdomain of rules that name none.
    :param strict_slashes: default for rules: redirect ``/a`` to ``/a/``.
    :param merge_slashes: default for rules: redirect ``/a//b`` to ``/a/b``.
    :param redirect_defaults: redirect URLs that spell out a default value to
        the rule providing that default.
    :param converters: extra converters by name, on top of the defaults.
    :param sort_parameters: sort the query string of built URLs.
    :param sort_key: key function for that sort.
    :param host_matching: match rules on the full host (``Rule(host=...)``)
        instead of the subdomain.
    """

    #: The converters a new map starts with.
    default_converters: t.Mapping[str, type[BaseConverter]] = DEFAULT_CONVERTERS

    def __init__(
        self,
        rules: cabc.Iterable[RuleFactory] | None = None,
        default_subdomain: str = "",
        strict_slashes: bool = True,
        merge_slashes: bool = True,
        redirect_defaults: bool = True,
        converters: cabc.Mapping[str, type[BaseConverter]] | None = None,
        sort_parameters: bool = False,
        sort_key: cabc.Callable[[t.Any], t.Any] | None = None,
        host_matching: bool = False,
    ) -> None:
        self._rules: list[Rule] = []
        self._rules_by_endpoint: dict[t.Any, list[Rule]] = {}
        # Serialises what changes the trie or generates code from it (add,
        # update, the first match after a change, a unit's first match), so
        # code is never generated from, nor installed over, a trie in the
        # middle of a change. Matching with code already generated takes no
        # lock (see _find_first).
        self._lock = threading.RLock()
        self._matcher: Matcher | None = None
        #: The generated match function, ``(domain, path, method, websocket)
        #: -> (rule, values)``, for hot paths that can skip ``MapAdapter.match``:
        #: ``path`` starts with ``/``, ``method`` is uppercase, ``domain`` is the
        #: subdomain (or the host with ``host_matching``). ``values`` include the
        #: rule's defaults. A falsy result (None: no rule matched, False: a slash
        #: redirect), or a rule with ``may_redirect`` set, needs
        #: ``MapAdapter.match`` for the full answer (404, 405, redirects).
        #: Read it at each match: ``add`` replaces it (a function captured
        #: earlier keeps matching the rules of its time).
        self.find: MatchFunc = self._find_first
        #: For callers that memoise what they derive from a match (the app keeps
        #: its static hits here). ``add`` installs a new empty dict instead of
        #: clearing this one, so capture the dict *before* matching and write
        #: into the captured one: what a match racing an ``add`` derived then
        #: lands in a discarded dict instead of outliving the change.
        self.match_cache: dict[t.Any, t.Any] = {}
        self.default_subdomain = default_subdomain
        self.strict_slashes = strict_slashes
        self.merge_slashes = merge_slashes
        self.redirect_defaults = redirect_defaults
        self.host_matching = host_matching
        self.sort_parameters = sort_parameters
        self.sort_key = sort_key
        self.converters: dict[str, type[BaseConverter]] = dict(self.default_converters)
        if converters:
            self.converters.update(converters)
        for rulefactory in rules or ():
            self.add(rulefactory)

    def add(self, rulefactory: RuleFactory) -> None:
        """Add a rule (or every rule of a factory); O(1) amortised.

        Rules may be added after matching started, also while other threads
        match: each is inserted into the trie directly, but the generated
        code is discarded and generated again at the next match, so an add
        followed by a match costs 2-3 ms with 2,000 rules
        (``benchmarks/bench_routing.py``). Add rules before serving where
        you can.
        """
        with self._lock:
            try:
                for rule in rulefactory.get_rules(self):
                    rule.bind(self)
                    same = self._rules_by_endpoint.setdefault(rule.endpoint, [])
                    bisect.insort(same, rule, key=Rule.build_compare_key)
                    self._rules.append(rule)
                    has_defaults = len(same) > 1 and any(
                        r.defaults and not r.build_only for r in same
                    )
                    for r in same:
                        r.may_redirect = bool(r.redirect_to is not None or r.alias or has_defaults)
                    if self._matcher is not None:
                        self._matcher.add(rule)
            finally:
                # Also when a rule of the factory failed: those before it are
                # in. The memo goes last: whoever captures the new dict reads
                # find afterwards and so matches the new rules.
                self.find = self._find_first
                self.match_cache = {}

    def update(self) -> None:
        """Compile the matcher (and generate its code) now, not at the first match.

        Subtrees behind a large dispatch table are still generated at their
        first match (see ``erlen.routing._codegen``).
        """
        with self._lock:
            matcher = self._get_matcher()
            self.find = matcher.find or matcher.compile()

    def _find_first(
        self, domain: str, path: str, method: str, websocket: bool
    ) -> tuple[Rule, dict[str, t.Any]] | t.Literal[False] | None:
        """``find`` while no code is generated for the current rules: generate it."""
        # Generating and installing under the lock that add holds: no rule can
        # be added in between, so the code installed is that of the current
        # trie, and the next add replaces it. Matching runs after the lock is
        # released (a converter may be slow).
        with self._lock:
            matcher = self._get_matcher()
            find = self.find = matcher.find or matcher.compile()
        return find(domain, path, method, websocket)

    def _get_matcher(self) -> Matcher:
        matcher = self._matcher
        if matcher is None:
            with self._lock:
                # Under the lock: a rule added while the trie is built would
                # miss both the trie and (since _matcher was None) the add.
                matcher = self._matcher
                if matcher is None:
                    matcher = Matcher(self._lock)
                    for rule in self._rules:
                        matcher.add(rule)
                    self._matcher = matcher
        return matcher

    def __getstate__(self) -> dict[str, t.Any]:
        """The rules and settings, without the lock, the trie and the generated code.

        Generated functions can't be pickled, and copied they would still
        return the original map's rules: a copy (``pickle``, ``copy.copy``,
        ``copy.deepcopy``) generates its own at its first match. The lists
        ``add`` changes are copied, so a shallow copy shares the rules but
        not the list of them.
        """
        state = self.__dict__.copy()
        for name in ("_lock", "_matcher", "find", "match_cache"):
            state.pop(name, None)
        state["_rules"] = list(self._rules)
        state["_rules_by_endpoint"] = {k: list(v) for k, v in self._rules_by_endpoint.items()}
        state["converters"] = dict(self.converters)
        return state

    def __setstate__(self, state: dict[str, t.Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._matcher = None
        self.find = self._find_first
        self.match_cache = {}

    def iter_rules(self, endpoint: t.Any | None = None) -> cabc.Iterator[Rule]:
        """Iterate over all rules, or those of one endpoint (KeyError if none)."""
        if endpoint is not None:
            return iter(self._rules_by_endpoint[endpoint])
        return iter(self._rules)

    def is_endpoint_expecting(self, endpoint: t.Any, *arguments: str) -> bool:
        """Whether some rule of ``endpoint`` takes all of ``arguments``."""
        wanted = set(arguments)
        return any(wanted <= rule.arguments for rule in self._rules_by_endpoint.get(endpoint, ()))

    def bind(
        self,
        server_name: str,
        script_name: str | None = None,
        subdomain: str | None = None,
        url_scheme: str = "http",
        default_method: str = "GET",
        path_info: str | None = None,
        query_args: cabc.Mapping[str, t.Any] | str | None = None,
    ) -> MapAdapter:
        """Return an adapter for one request (or for building URLs offline).

        ``server_name`` is the host (with port when not the default one);
        ``subdomain`` is the part of the request host left of it.
        """
        server_name = server_name.lower()
        if self.host_matching:
            if subdomain is not None:
                raise RuntimeError(
                    f"The map uses host matching, so bind() takes no subdomain"
                    f" (got {subdomain!r}); pass the full host as server_name."
                )
        elif subdomain is None:
            subdomain = self.default_subdomain
        return MapAdapter(
            self,
            server_name,
            script_name or "/",
            subdomain,
            url_scheme,
            path_info or "/",
            default_method,
            query_args,
        )

    def bind_to_host(
        self,
        host: str,
        server_name: str | None = None,
        script_name: str | None = None,
        subdomain: str | None = None,
        url_scheme: str = "http",
        default_method: str = "GET",
        path_info: str | None = None,
        query_args: cabc.Mapping[str, t.Any] | str | None = None,
    ) -> MapAdapter:
        """Bind for a request to ``host``, deriving the subdomain from ``server_name``.

        The sans-IO part of Werkzeug's ``bind_to_environ``: without
        ``server_name`` the request host is the server name. A host outside
        ``server_name`` gets the subdomain ``"<invalid>"``, so matching fails
        with 404 rather than serving the wrong site.
        """
        # COMPAT: like the request host, compare without the default port.
        default_port = ":443" if url_scheme in ("https", "wss") else ":80"
        host = host.lower().removesuffix(default_port)
        if server_name is None:
            server_name = host
        else:
            server_name = server_name.lower().removesuffix(default_port)
        if subdomain is None and not self.host_matching:
            current = host.split(".")
            real = server_name.split(".")
            offset = -len(real)
            if current[offset:] != real:
                subdomain = "<invalid>"
            else:
                subdomain = ".".join(filter(None, current[:offset]))
        return self.bind(
            server_name, script_name, subdomain, url_scheme, default_method, path_info, query_args
        )

    def __repr__(self) -> str:
        rules = ",\n ".join(repr(rule) for rule in self._rules)
        return f"{type(self).__name__}([{rules}])"


class MapAdapter:
    """A map bound to one host, script root and scheme; made by ``Map.bind``."""

    # PERF: the app binds once per request; bind must stay a few assignments.
    __slots__ = (
        "map",
        "server_name",
        "script_name",
        "subdomain",
        "url_scheme",
        "path_info",
        "default_method",
        "query_args",
        "websocket",
    )

    def __init__(
        self,
        map: Map,
        server_name: str,
        script_name: str,
        subdomain: str | None,
        url_scheme: str,
        path_info: str,
        default_method: str,
        query_args: cabc.Mapping[str, t.Any] | str | None = None,
    ) -> None:
        self.map = map
        self.server_name = server_name
        if not script_name.endswith("/"):
            script_name += "/"
        self.script_name = script_name
        self.subdomain = subdomain
        self.url_scheme = url_scheme
        self.path_info = path_info
        self.default_method = default_method
        self.query_args = query_args
        self.websocket = url_scheme in ("ws", "wss")

    # -- matching -------------------------------------------------------

    def match(
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: bool = False,
        query_args: cabc.Mapping[str, t.Any] | str | None = None,
        websocket: bool | None = None,
    ) -> tuple[t.Any, dict[str, t.Any]]:
        """Match a (decoded) path; return ``(endpoint, values)``.

        With ``return_rule=True`` the rule is returned instead of the endpoint.
        Raises ``NotFound``, ``MethodNotAllowed`` (path matched, method did
        not), ``RequestRedirect`` or ``WebsocketMismatch``.
        """
        url_map = self.map
        matcher = url_map._matcher or url_map._get_matcher()
        if path_info is None:
            path_info = self.path_info
        if method not in UPPERCASE_METHODS:
            # PERF: the common methods arrive uppercase; skip .upper() for them.
            method = (method or self.default_method).upper()
        if websocket is None:
            websocket = self.websocket
        domain = (self.server_name if url_map.host_matching else self.subdomain) or ""
        # PERF: static rules are one dict lookup; everything else runs the
        # generated matcher (see matcher.py).
        by_path = matcher.static.get(domain) if domain else matcher.static_no_domain
        if by_path is not None:
            rules = by_path.get(path_info)
            if rules is not None:
                for rule in rules:
                    if (
                        rule.methods is None or method in rule.methods
                    ) and rule.websocket == websocket:
                        if rule.may_redirect:
                            break
                        values = dict(rule.defaults) if rule.defaults else {}
                        return (rule if return_rule else rule.endpoint), values
        found = url_map.find(domain, path_info, method, websocket)
        if found:
            rule, values = found
        else:
            if path_info[:1] != "/":
                # PERF: checked only here (~400 instructions less per match):
                # no static rule, nor the generated code, matches a path
                # without its leading "/".
                return self.match("/" + path_info, method, return_rule, query_args, websocket)
            try:
                # Walk the trie: it raises with the methods for a 405, or the
                # slash redirect the generated code left to it.
                rule, values = matcher.walk(domain, path_info, method, websocket)
            except (NoMatch, SlashRequired) as e:
                self._no_match(e, matcher, domain, path_info, method, websocket, query_args)
        if rule.may_redirect:
            self._check_redirect(rule, values, method, query_args, path_info)
        return (rule if return_rule else rule.endpoint), values

    def _no_match(
        self,
        exc: NoMatch | SlashRequired,
        matcher: Matcher,
        domain: str,
        path_info: str,
        method: str,
        websocket: bool,
        query_args: cabc.Mapping[str, t.Any] | str | None,
    ) -> t.NoReturn:
        """Turn a failed match into the redirect or HTTP error to raise."""
        if isinstance(exc, SlashRequired):
            raise RequestRedirect(
                self.make_redirect_url(quote_path(path_info + "/"), query_args)
            ) from None
        if self.map.merge_slashes and "//" in path_info:
            merged = _merge_slashes_re.sub("/", path_info)
            try:
                rule, _ = matcher.match(domain, merged, method, websocket)
            except SlashRequired:
                raise RequestRedirect(
                    self.make_redirect_url(quote_path(merged + "/"), query_args)
                ) from None
            except NoMatch:
                pass
            else:
                if rule.merge_slashes:
                    raise RequestRedirect(
                        self.make_redirect_url(quote_path(merged), query_args)
                    ) from None
        if exc.have_match_for:
            raise MethodNotAllowed(valid_methods=sorted(exc.have_match_for)) from None
        if exc.websocket_mismatch:
            raise WebsocketMismatch() from None
        raise NotFound() from None

    def _check_redirect(
        self,
        rule: Rule,
        values: dict[str, t.Any],
        method: str,
        query_args: cabc.Mapping[str, t.Any] | str | None,
        path_info: str,
    ) -> None:
        if rule.redirect_to is not None:
            if isinstance(rule.redirect_to, str):

                def fill(m: re.Match[str]) -> str:
                    value = values[m.group(1)]
                    conv = rule._converters.get(m.group(1))
                    return conv.to_url(value) if conv else quote_path(str(value))

                url = _redirect_var_re.sub(fill, rule.redirect_to)
            else:
                url = rule.redirect_to(self, **values)
            base = f"{self.url_scheme or 'http'}://{self.get_host(None)}"
            raise RequestRedirect(urljoin(base + self.script_name, url))
        if not self.map.redirect_defaults:
            return
        if rule.alias:
            url = self.build(
                rule.endpoint, values, method, append_unknown=False, force_external=True
            )
            if url != self.make_redirect_url(quote_path(path_info), ""):
                if query_args is None:
                    query_args = self.query_args
                if query_args:
                    url += "?" + self.encode_query_args(query_args)
                raise RequestRedirect(url)
        redirect = self.get_default_redirect(rule, method, values, query_args)
        if redirect is not None:
            raise RequestRedirect(redirect)

    def get_default_redirect(
        self,
        rule: Rule,
        method: str,
        values: dict[str, t.Any],
        query_args: cabc.Mapping[str, t.Any] | str | None,
    ) -> str | None:
        """The URL of a rule providing ``values`` as defaults, if one does."""
        for other in self.map._rules_by_endpoint[rule.endpoint]:
            # Rules before this one in build order take precedence.
            if other is rule:
                break
            if other.provides_defaults_for(rule) and other.suitable_for(values, method):
                built = other.build({**values, **(other.defaults or {})})
                if built is not None:
                    domain_part, path = built
                    return self.make_redirect_url(path, query_args, domain_part)
        return None

    def allowed_methods(self, path_info: str | None = None) -> list[str]:
        """The methods some rule accepts for ``path_info`` (empty if any)."""
        try:
            self.match(path_info, method="--")
        except MethodNotAllowed as e:
            return list(e.valid_methods or ())
        except HTTPException:
            pass
        return []

    def dispatch(
        self,
        view_func: cabc.Callable[[t.Any, dict[str, t.Any]], t.Any],
        path_info: str | None = None,
        method: str | None = None,
        catch_http_exceptions: bool = False,
    ) -> t.Any:
        """Match and call ``view_func(endpoint, values)``; redirects are returned."""
        try:
            try:
                endpoint, values = self.match(path_info, method)
            except RequestRedirect as e:
                return e
            return view_func(endpoint, values)
        except HTTPException as e:
            if catch_http_exceptions:
                return e
            raise

    # -- URLs -----------------------------------------------------------

    def get_host(self, domain_part: str | None) -> str:
        """The host for a rule's domain part (a subdomain, or a whole host)."""
        if self.map.host_matching:
            return domain_part or self.server_name
        subdomain = self.subdomain if domain_part is None else domain_part
        return f"{subdomain}.{self.server_name}" if subdomain else self.server_name

    def encode_query_args(self, query_args: cabc.Mapping[str, t.Any] | str) -> str:
        """Encode query args as a query string (a string passes through)."""
        if isinstance(query_args, str):
            return query_args
        return encode_query(query_args)

    def make_redirect_url(
        self,
        path_info: str,
        query_args: cabc.Mapping[str, t.Any] | str | None = None,
        domain_part: str | None = None,
    ) -> str:
        """The absolute URL of an (already quoted) path, keeping the query."""
        if query_args is None:
            query_args = self.query_args
        suffix = f"?{self.encode_query_args(query_args)}" if query_args else ""
        host = self.get_host(domain_part)
        path = path_info.lstrip("/")
        return f"{self.url_scheme or 'http'}://{host}{self.script_name}{path}{suffix}"

    def build(
        self,
        endpoint: t.Any,
        values: cabc.Mapping[str, t.Any] | None = None,
        method: str | None = None,
        force_external: bool = False,
        append_unknown: bool = True,
        url_scheme: str | None = None,
    ) -> str:
        """Build the URL of ``endpoint`` from ``values``.

        Values no rule variable takes go to the query string (lists repeat the
        key, None is dropped). The URL is relative to the host unless
        ``force_external`` is set or the rule is on another (sub)domain.
        Raises ``BuildError`` when no rule of the endpoint fits.
        """
        if values:
            if hasattr(values, "getlist"):
                multi = t.cast(t.Any, values)
                clean: dict[str, t.Any] = {}
                for key in multi.keys():
                    items = [v for v in multi.getlist(key) if v is not None]
                    if items:
                        clean[key] = items[0] if len(items) == 1 else items
                values = clean
            else:
                # PERF: copy only when there is a None to drop.
                for v in values.values():
                    if v is None:
                        values = {k: v for k, v in values.items() if v is not None}
                        break
        else:
            values = {}
        rv = self._partial_build(endpoint, values, method, append_unknown)
        if rv is None:
            raise BuildError(endpoint, values, method, self)
        domain_part, path, websocket = rv
        url_map = self.map
        if url_map.host_matching:
            host = domain_part or self.server_name
            relative = host == self.server_name
        else:
            host = ""
            relative = domain_part == self.subdomain
        # PERF: the common case, a path on this host, needs no scheme logic.
        if relative and not force_external and not websocket:
            return f"{self.script_name[:-1]}{path}"
        if not url_scheme:
            url_scheme = self.url_scheme
        secure = url_scheme in ("https", "wss")
        if websocket:
            url_scheme = "wss" if secure else "ws"
        elif url_scheme:
            url_scheme = "https" if secure else "http"
        if not url_map.host_matching:
            host = self.get_host(domain_part)
        scheme = f"{url_scheme}:" if url_scheme else ""
        return f"{scheme}//{host}{self.script_name[:-1]}{path}"

    def _partial_build(
        self,
        endpoint: t.Any,
        values: cabc.Mapping[str, t.Any],
        method: str | None,
        append_unknown: bool,
    ) -> tuple[str, str, bool] | None:
        """Build with the first fitting rule: ``(domain part, path, websocket)``.

        Without a method, rules for the default method are tried first. A rule
        on the bound (sub)domain beats one elsewhere.
        """
        rules = self.map._rules_by_endpoint.get(endpoint)
        if not rules:
            return None
        own = self.server_name if self.map.host_matching else self.subdomain
        # PERF: one rule per endpoint is the common case; skip the loops.
        if len(rules) == 1:
            rule = rules[0]
            if rule.suitable_for(values, method):
                built = rule.build(values, append_unknown)
                if built is not None:
                    return built[0], built[1], rule.websocket
            return None
        first = None
        for attempt in (self.default_method, None) if method is None else (method,):
            for rule in rules:
                if rule.suitable_for(values, attempt):
                    built = rule.build(values, append_unknown)
                    if built is not None:
                        if built[0] == own:
                            return built[0], built[1], rule.websocket
                        if first is None:
                            first = built[0], built[1], rule.websocket
            if first is not None:
                return first
        return None
