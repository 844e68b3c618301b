"""URL rules: parsing ``/user/<int:id>`` and compiling per-rule URL builders.

A rule string is split into a domain part (the host or subdomain pattern) and
path segments. Each segment is a list of static text and variables. Matching
structures are built from these by :mod:`erlen.routing.matcher`; building a
URL walks the precompiled ``_path_builder`` list of static text and converter
slots.
"""

from __future__ import annotations

import ast
import collections.abc as cabc
import re
import typing as t
from urllib.parse import urlencode

from .converters import BaseConverter
from .converters import ValidationError
from .converters import quote_path

if t.TYPE_CHECKING:
    from .map import Map

__all__ = [
    "EndpointPrefix",
    "Rule",
    "RuleFactory",
    "RuleTemplate",
    "Subdomain",
    "Submount",
    "parse_converter_args",
]

_variable_re = re.compile(
    r"""
    <
    (?:
        (?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)   # converter name
        (?:\((?P<args>.*?)\))?                  # converter arguments
        :                                       # delimiter
    )?
    (?P<name>[a-zA-Z_][a-zA-Z0-9_]*)            # variable name
    >
    """,
    re.VERBOSE,
)
_merge_slashes_re = re.compile("/{2,}")
_QUERY_SAFE = "!$'()*,/:;?@"


class Variable(t.NamedTuple):
    """A ``<converter(args):name>`` slot in a rule string."""

    name: str
    converter: str
    args: str | None


#: Static text or a variable.
Part: t.TypeAlias = str | Variable


def parse_converter_args(argstr: str) -> tuple[tuple[t.Any, ...], dict[str, t.Any]]:
    """Parse ``"1, 'a', x=True"`` into positional and keyword arguments.

    Values are Python literals; a bare word stands for itself as a string, so
    ``any(about, help)`` works. Nothing is evaluated.
    """
    # SECURITY: parse with ast and accept only literals (ast.literal_eval) and
    # bare names; never eval rule text.
    try:
        call = ast.parse(f"f({argstr})", mode="eval").body
    except SyntaxError:
        raise ValueError(
            f"Cannot parse converter arguments {argstr!r}: use Python literals"
            " separated by commas, such as (2, 'a', signed=True)."
        ) from None
    if not isinstance(call, ast.Call):  # pragma: no cover - "f(...)" is a call
        raise ValueError(f"Cannot parse converter arguments {argstr!r}.")

    def value(node: ast.expr) -> t.Any:
        if isinstance(node, ast.Name):
            return node.id
        try:
            return ast.literal_eval(node)
        except ValueError:
            raise ValueError(
                f"Converter argument {ast.unparse(node)!r} in {argstr!r} is not a"
                " literal: use numbers, quoted strings, True, False or None."
            ) from None

    args = []
    for node in call.args:
        if isinstance(node, ast.Starred):
            raise ValueError(f"Converter arguments {argstr!r} may not use '*'.")
        args.append(value(node))
    kwargs = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise ValueError(f"Converter arguments {argstr!r} may not use '**'.")
        kwargs[kw.arg] = value(kw.value)
    return tuple(args), kwargs


def parse_template(text: str, rule: str) -> list[Part]:
    """Split rule text into static strings and variables."""
    if "<" not in text:
        return [text] if text else []
    parts: list[Part] = []
    pos = 0
    end = len(text)
    while pos < end:
        lt = text.find("<", pos)
        if lt < 0:
            parts.append(text[pos:])
            break
        if lt > pos:
            parts.append(text[pos:lt])
        m = _variable_re.match(text, lt)
        if m is None:
            raise ValueError(
                f"Malformed URL rule {rule!r}: cannot parse the variable at"
                f" {text[lt:]!r}. Write variables as <name>, <converter:name> or"
                " <converter(args):name>, and close every '<' with '>'."
            )
        parts.append(Variable(m["name"], m["converter"] or "default", m["args"]))
        pos = m.end()
    return parts


def split_segments(parts: list[Part]) -> list[list[Part]]:
    """Split the parts of a path (after its leading slash) at each ``/``."""
    segments: list[list[Part]] = [[]]
    for part in parts:
        if isinstance(part, Variable):
            segments[-1].append(part)
            continue
        pieces = part.split("/")
        if pieces[0]:
            segments[-1].append(pieces[0])
        for piece in pieces[1:]:
            segments.append([piece] if piece else [])
    return segments


class RuleFactory:
    """Something that yields rules for a map (``Rule`` itself, ``Submount``...)."""

    def get_rules(self, map: Map) -> cabc.Iterable[Rule]:
        """Yield the rules this factory stands for."""
        raise NotImplementedError()


class _NestedFactory(RuleFactory):
    def __init__(self, rules: cabc.Iterable[RuleFactory]) -> None:
        self.rules = list(rules)

    def _iter(self, map: Map) -> cabc.Iterator[Rule]:
        for factory in self.rules:
            for rule in factory.get_rules(map):
                yield rule.empty()


class Subdomain(_NestedFactory):
    """Give every nested rule the same subdomain."""

    def __init__(self, subdomain: str, rules: cabc.Iterable[RuleFactory]) -> None:
        super().__init__(rules)
        self.subdomain = subdomain

    def get_rules(self, map: Map) -> cabc.Iterator[Rule]:
        for rule in self._iter(map):
            rule.subdomain = self.subdomain
            yield rule


class Submount(_NestedFactory):
    """Prefix the path of every nested rule."""

    def __init__(self, path: str, rules: cabc.Iterable[RuleFactory]) -> None:
        super().__init__(rules)
        self.path = path.rstrip("/")

    def get_rules(self, map: Map) -> cabc.Iterator[Rule]:
        for rule in self._iter(map):
            rule.rule = self.path + rule.rule
            yield rule


class EndpointPrefix(_NestedFactory):
    """Prefix the endpoint of every nested rule."""

    def __init__(self, prefix: str, rules: cabc.Iterable[RuleFactory]) -> None:
        super().__init__(rules)
        self.prefix = prefix

    def get_rules(self, map: Map) -> cabc.Iterator[Rule]:
        for rule in self._iter(map):
            rule.endpoint = self.prefix + str(rule.endpoint)
            yield rule


class RuleTemplate:
    """Rules with ``$placeholders`` filled in when called with values."""

    def __init__(self, rules: cabc.Iterable[Rule]) -> None:
        self.rules = list(rules)

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> _RuleTemplateFactory:
        return _RuleTemplateFactory(self.rules, dict(*args, **kwargs))


class _RuleTemplateFactory(RuleFactory):
    def __init__(self, rules: list[Rule], context: dict[str, t.Any]) -> None:
        self.rules = rules
        self.context = context

    def get_rules(self, map: Map) -> cabc.Iterator[Rule]:
        from string import Template

        def fill(value: t.Any) -> t.Any:
            if isinstance(value, str):
                return Template(value).substitute(self.context)
            return value

        for factory in self.rules:
            for rule in factory.get_rules(map):
                new = rule.empty()
                new.rule = fill(new.rule)
                new.endpoint = fill(new.endpoint)
                new.subdomain = fill(new.subdomain)
                new.host = fill(new.host)
                if new.defaults:
                    new.defaults = {k: fill(v) for k, v in new.defaults.items()}
                yield new


# A compiled builder item: static text, or (variable name, converter).
_BuildItem: t.TypeAlias = str | tuple[str, BaseConverter]
# A compiled builder: leading text, then (variable, to_url, text after it).
_Builder: t.TypeAlias = tuple[str, tuple[tuple[str, t.Callable[[t.Any], str], str], ...]]


def _make_builder(items: list[_BuildItem]) -> _Builder:
    """Fold static text around each converter slot, for a join-free build."""
    prefix = ""
    slots: list[tuple[str, t.Callable[[t.Any], str], str]] = []
    for item in items:
        if isinstance(item, str):
            if slots:
                name, to_url, after = slots[-1]
                slots[-1] = (name, to_url, after + item)
            else:
                prefix += item
        else:
            slots.append((item[0], item[1].to_url, ""))
    return prefix, tuple(slots)


class Rule(RuleFactory):
    """One URL pattern and the endpoint it leads to.

    :param string: the path, starting with ``/``; ``<name>`` and
        ``<converter(args):name>`` mark variables.
    :param defaults: values given to the view when the rule matches; a URL
        spelling out a default redirects to a rule without it.
    :param methods: allowed methods (``HEAD`` is added to ``GET``); ``None``
        allows every method.
    :param strict_slashes: redirect ``/a`` to ``/a/`` instead of matching it;
        ``None`` takes the map's setting.
    :param merge_slashes: redirect ``/a//b`` to ``/a/b``; ``None`` takes the
        map's setting.
    :param redirect_to: a rule string or a callable ``(adapter, **values)``
        returning the URL to redirect to when this rule matches.
    :param alias: redirect to the canonical rule of the same endpoint.
    :param build_only: never matched, only used for building URLs.
    """

    map: Map | None
    provide_automatic_options: bool

    def __init__(
        self,
        string: str,
        defaults: cabc.Mapping[str, t.Any] | None = None,
        subdomain: str | None = None,
        methods: cabc.Iterable[str] | None = None,
        build_only: bool = False,
        endpoint: t.Any = None,
        strict_slashes: bool | None = None,
        merge_slashes: bool | None = None,
        redirect_to: str | cabc.Callable[..., str] | None = None,
        alias: bool = False,
        host: str | None = None,
        websocket: bool = False,
    ) -> None:
        if not isinstance(string, str) or not string.startswith("/"):
            raise ValueError(f"URL rule {string!r} must start with a slash '/'.")
        self.rule = string
        self.is_leaf = not string.endswith("/")
        self.is_branch = string.endswith("/")
        self.map = None
        self.strict_slashes = strict_slashes
        self.merge_slashes = merge_slashes
        self.subdomain = subdomain
        self.host = host
        self.defaults = dict(defaults) if defaults is not None else None
        self.build_only = build_only
        self.alias = alias
        self.websocket = websocket
        if methods is not None:
            if isinstance(methods, str):
                raise TypeError(
                    f"'methods' should be a list of strings, not the string"
                    f" {methods!r}; write methods=[{methods!r}]."
                )
            methods = {m.upper() for m in methods}
            if "GET" in methods:
                methods.add("HEAD")
        if websocket:
            if methods is None:
                methods = {"GET", "HEAD"}
            elif methods - {"GET", "HEAD", "OPTIONS"}:
                raise ValueError(
                    f"WebSocket rule {string!r} can only use the methods 'GET',"
                    f" 'HEAD' and 'OPTIONS', not {sorted(methods)!r}."
                )
        self.methods: set[str] | None = methods
        self.endpoint: t.Any = endpoint
        self.redirect_to = redirect_to
        self.arguments: set[str] = set(map(str, self.defaults or ()))
        # Check the syntax now, so a broken rule fails where it is written.
        self._check_syntax()
        # Filled in by bind().
        self._converters: dict[str, BaseConverter] = {}
        self._domain_parts: list[Part] = []
        self._segments: list[list[Part]] = []
        self._static_path: str | None = None
        self._path_builder: _Builder = ("", ())
        self._domain_builder: _Builder = ("", ())
        self._required: tuple[str, ...] = ()
        self._static_domain: str | None = None
        self._seq = 0
        #: Whether a match may end in a redirect instead (``redirect_to``, an
        #: alias, or defaults another rule of the endpoint makes canonical):
        #: set by the map; ``Map.find``'s callers hand such rules to
        #: ``MapAdapter.match``.
        self.may_redirect = False

    def _check_syntax(self) -> None:
        names: set[str] = set()
        for text in (self.rule, self.host if self.host else self.subdomain or ""):
            for part in parse_template(text, self.rule):
                if isinstance(part, Variable):
                    if part.name in names:
                        raise ValueError(
                            f"Variable name {part.name!r} used twice in URL rule"
                            f" {self.rule!r}; give each variable its own name."
                        )
                    names.add(part.name)
        self.arguments |= names

    def get_rules(self, map: Map) -> cabc.Iterator[Rule]:
        yield self

    def empty(self) -> Rule:
        """Return an unbound copy of this rule, to add to another map."""
        rule = type(self)(self.rule, **self.get_empty_kwargs())
        if hasattr(self, "provide_automatic_options"):
            rule.provide_automatic_options = self.provide_automatic_options
        return rule

    def get_empty_kwargs(self) -> dict[str, t.Any]:
        """The keyword arguments ``empty()`` passes to the new rule."""
        return {
            "defaults": dict(self.defaults) if self.defaults is not None else None,
            "subdomain": self.subdomain,
            "methods": self.methods,
            "build_only": self.build_only,
            "endpoint": self.endpoint,
            "strict_slashes": self.strict_slashes,
            "merge_slashes": self.merge_slashes,
            "redirect_to": self.redirect_to,
            "alias": self.alias,
            "host": self.host,
            "websocket": self.websocket,
        }

    def bind(self, map: Map, rebind: bool = False) -> None:
        """Attach the rule to ``map`` and compile it with the map's converters."""
        if self.map is not None and not rebind:
            raise RuntimeError(
                f"URL rule {self!r} is already bound to map {self.map!r}; add"
                " rule.empty() to use it in another map."
            )
        self.map = map
        if self.strict_slashes is None:
            self.strict_slashes = map.strict_slashes
        if self.merge_slashes is None:
            self.merge_slashes = map.merge_slashes
        if self.subdomain is None:
            self.subdomain = map.default_subdomain
        self.compile()

    def get_converter(
        self,
        variable_name: str,
        converter_name: str,
        args: tuple[t.Any, ...],
        kwargs: cabc.Mapping[str, t.Any],
    ) -> BaseConverter:
        """Instantiate the converter named in the rule for one variable."""
        assert self.map is not None
        if converter_name not in self.map.converters:
            raise ValueError(
                f"Unknown converter {converter_name!r} for variable"
                f" {variable_name!r} in URL rule {self.rule!r}. Known converters:"
                f" {sorted(self.map.converters)!r}; register new ones in"
                " Map(converters=...) or map.converters."
            )
        try:
            return self.map.converters[converter_name](self.map, *args, **kwargs)
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"Invalid arguments for converter {converter_name!r} in URL rule {self.rule!r}: {e}"
            ) from e

    def _make_converter(self, var: Variable) -> BaseConverter:
        if var.args is not None:
            args, kwargs = parse_converter_args(var.args)
        else:
            args, kwargs = (), {}
        conv = self.get_converter(var.name, var.converter, args, kwargs)
        self._converters[var.name] = conv
        self.arguments.add(var.name)
        return conv

    def compile(self) -> None:
        """Parse the rule against the bound map's converters."""
        assert self.map is not None
        self._converters = {}
        self.arguments = set(map(str, self.defaults or ()))
        if self.map.host_matching:
            domain = self.host or ""
        else:
            domain = self.subdomain or ""
        self._domain_parts = parse_template(domain, self.rule)
        path = self.rule
        if self.merge_slashes and "//" in path:
            path = _merge_slashes_re.sub("/", path)
        path_parts = parse_template(path, self.rule)
        # The leading "/" is implied by the segment list.
        first = t.cast(str, path_parts[0])
        if len(first) > 1:
            path_parts[0] = first[1:]
        else:
            del path_parts[0]
        self._segments = split_segments(path_parts)

        domain_items: list[_BuildItem] = []
        for part in self._domain_parts:
            if isinstance(part, Variable):
                domain_items.append((part.name, self._make_converter(part)))
            else:
                domain_items.append(part)
        path_items: list[_BuildItem] = []
        static = True
        for segment in self._segments:
            path_items.append("/")
            for part in segment:
                if isinstance(part, Variable):
                    path_items.append((part.name, self._make_converter(part)))
                    static = False
                else:
                    path_items.append(quote_path(part))
        self._domain_builder = _make_builder(domain_items)
        self._path_builder = _make_builder(path_items)
        self._static_domain = self._domain_builder[0] if not self._domain_builder[1] else None
        if static:
            self._static_path = "/" + "/".join(
                "".join(t.cast(list[str], seg)) for seg in self._segments
            )
        else:
            self._static_path = None
        self._required = tuple(self.arguments.difference(self.defaults or ()))

    # -- building -------------------------------------------------------

    def suitable_for(self, values: cabc.Mapping[str, t.Any], method: str | None = None) -> bool:
        """Whether this rule can build a URL from ``values`` for ``method``."""
        if method is not None and self.methods is not None and method not in self.methods:
            return False
        if self.map is None:
            required: t.Iterable[str] = self.arguments.difference(self.defaults or ())
        else:
            required = self._required
        for key in required:
            if key not in values:
                return False
        if self.defaults:
            for key, value in self.defaults.items():
                if key in values and value != values[key]:
                    return False
        return True

    def build(
        self, values: cabc.Mapping[str, t.Any], append_unknown: bool = True
    ) -> tuple[str, str] | None:
        """Build ``(domain part, path with query string)``, or None if unfit."""
        try:
            domain = self._static_domain
            if domain is None:
                domain = self._fill(self._domain_builder, values)
            # PERF: _fill inlined for the path, the part every build has.
            path, slots = self._path_builder
            for name, to_url, after in slots:
                try:
                    value = values[name]
                except KeyError:
                    value = self.defaults[name]  # type: ignore[index]
                path += to_url(value) + after
        except ValidationError:
            return None
        if append_unknown and not values.keys() <= self.arguments:
            known = self.arguments
            query = self._encode_query([(k, v) for k, v in values.items() if k not in known])
            if query:
                path = f"{path}?{query}"
        return domain, path

    def _fill(self, builder: _Builder, values: cabc.Mapping[str, t.Any]) -> str:
        text, slots = builder
        for name, to_url, after in slots:
            try:
                value = values[name]
            except KeyError:
                value = self.defaults[name]  # type: ignore[index]
            text += to_url(value) + after
        return text

    def _encode_query(self, items: list[tuple[str, t.Any]]) -> str:
        if self.map is None:
            return encode_query(items)
        return encode_query(items, self.map.sort_parameters, self.map.sort_key)

    def provides_defaults_for(self, rule: Rule) -> bool:
        """Whether this rule holds the defaults ``rule`` should redirect to."""
        return bool(
            not self.build_only
            and self.defaults
            and self.endpoint == rule.endpoint
            and self is not rule
            and self.arguments == rule.arguments
        )

    def build_compare_key(self) -> tuple[int, int, int]:
        """Sort key choosing which rule of an endpoint builds first."""
        return (
            1 if self.alias else 0,
            -len(self.arguments),
            -len(self.defaults or ()),
        )

    def __repr__(self) -> str:
        methods = f" ({', '.join(sorted(self.methods))})" if self.methods else ""
        domain = self.host if self.host else self.subdomain
        prefix = f"{domain}|" if domain else ""
        return f"<{type(self).__name__} {prefix + self.rule!r}{methods} -> {self.endpoint}>"


def iter_query_items(values: t.Any) -> cabc.Iterator[tuple[str, t.Any]]:
    """Yield ``(key, value)`` pairs from a mapping, multi-dict or pair list."""
    if hasattr(values, "getlist"):
        for key in values.keys():
            for value in values.getlist(key):
                yield key, value
        return
    items = values.items() if hasattr(values, "items") else values
    for key, value in items:
        if isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                yield key, item
        else:
            yield key, value


def encode_query(
    values: t.Any,
    sort: bool = False,
    key: cabc.Callable[[t.Any], t.Any] | None = None,
) -> str:
    """Encode values as a query string; lists repeat the key, None drops it."""
    items = [(k, v) for k, v in iter_query_items(values) if v is not None]
    if sort:
        items.sort(key=key)
    return urlencode(items, safe=_QUERY_SAFE)
