"""The compiled matcher: a dict of static paths plus a trie of path segments.

How a path is matched (``MapAdapter.match``):

1. **Static rules** (no variables in the path nor the domain) sit in a dict
   ``{domain: {path: [rules]}}``: one lookup, then the method check. This is
   the fast path and costs the same with 10 rules or 10,000.
2. **Everything else** goes through a trie. The first level is the domain
   (the subdomain, or the host with ``host_matching``); then one level per
   path segment. At each node the search tries, depth first with
   backtracking:

   a. the static child named by the segment (a dict lookup);
   b. the dynamic children, in priority order: more static text in the
      segment first (``file-<id>.txt`` before ``<id>``), then lower converter
      weights (``int``, ``float``, ``uuid``, ``any`` at 50 before ``string``
      at 100 before ``path`` at 200), then the order rules were added;
   c. "tail" rules whose remaining part contains a converter that can match
      ``/`` (``path``): one regex over the rest of the path, ordered like (b).

   Deeper rules are therefore tried before shallower tails, and a static
   segment always beats a converter. Ties fall back to insertion order only
   between rules that compete for the same segment, so adding an unrelated
   rule never changes which rule wins.

A converter's ``to_python`` raising ``ValidationError`` counts as "no match"
and the search continues. A rule whose path matches but whose methods do not
is remembered, so the adapter can answer 405 with the union of their methods.

The trie is searched in two ways:

- ``find`` (``Map.find``), the fast path: Python source generated from the
  trie by :mod:`erlen.routing._codegen` and compiled at the first match after
  a change: nested ``if`` statements per segment, ``isdigit()`` instead of a
  regex for ``int`` (and no regex at all for a plain ``path`` tail), values
  in locals, the result dict built in one expression. It returns the rule
  and its values, or None when nothing matched, or False when the answer is
  a slash redirect. It records nothing about failures.
- ``walk``, the reference: a recursive walk over the trie as data. It runs
  only when ``find`` found nothing, to collect the methods for a 405 (or
  raise the slash redirect). ``tests/routing/test_generated.py`` checks that
  both agree.

Adding a rule inserts it into the trie in O(depth) and drops the generated
code; the next match generates it again. Units generated then reuse the
compiled code of equal sources in the code dropped; units behind a dispatch
dict are generated, and compiled, again at their first match. An add
followed by a match costs 2-3 ms with 2,000 rules. The generated code holds each rule's methods set,
websocket flag and defaults dict as they were when it was generated: change
a rule by adding a new one. ``Matcher.source()`` shows the generated source.

Threads: ``Map`` holds one lock while a rule is added and while code is
generated or installed, so code is never generated from a trie in the
middle of a change, nor kept after one. Matching takes no lock: generated
code is a snapshot (a thread still running the code of before an add
answers for the rules of before), and the walk tolerates a concurrent
insertion (the trie's lists and dicts only grow).

An ``int`` segment with more digits than ``int()`` converts
(``sys.get_int_max_str_digits()``) is no match, like a ``ValidationError``.
"""

from __future__ import annotations

import bisect
import re
import threading
import typing as t

from ._codegen import Generator
from ._codegen import MatchFunc
from .converters import BaseConverter
from .converters import FloatConverter
from .converters import IntegerConverter
from .converters import NumberConverter
from .converters import ValidationError
from .converters import parse_int
from .exceptions import NoMatch
from .rules import Part
from .rules import Rule
from .rules import Variable

__all__ = ["Matcher"]

# (variable name, regex group name, to_python or None when it is the identity)
_Slot = tuple[str, str, t.Callable[[str], t.Any] | None]
_Values = list[tuple[str, t.Any]]
# (fullmatch, slots, static length, weights, the converter regex when the
# parts are exactly one variable)
_Compiled = tuple[
    t.Callable[[str], "re.Match[str] | None"],
    tuple[_Slot, ...],
    int,
    tuple[int, ...],
    str | None,
]


class SlashRequired(Exception):
    """The path matches once a trailing slash is added."""


# What a failed walk saw: the methods of rules whose path matched, plus this
# marker when a rule matched but was of the other kind (WebSocket vs HTTP).
# PERF: a plain set, not an object, since every dynamic match makes one.
_WEBSOCKET_MISMATCH = "\0websocket"


class _Node:
    __slots__ = ("static", "dynamic", "tails", "rules")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.dynamic: list[_Dynamic] = []
        self.tails: list[_Tail] = []
        self.rules: list[Rule] = []


class _Dynamic:
    """A segment pattern with variables, leading to a child node."""

    __slots__ = ("key", "order", "fullmatch", "slots", "whole", "regex", "child")

    def __init__(
        self,
        key: tuple[t.Any, ...],
        order: tuple[t.Any, ...],
        fullmatch: t.Callable[[str], re.Match[str] | None],
        slots: tuple[_Slot, ...],
        regex: str | None,
    ) -> None:
        self.key = key
        self.order = order
        self.fullmatch = fullmatch
        self.slots = slots
        # PERF: a segment that is exactly one variable ("<int:id>") takes the
        # whole segment text; no group lookup, no _convert call.
        self.whole: tuple[str, t.Callable[[str], t.Any] | None] | None = None
        #: The converter's regex when the segment is exactly one variable.
        self.regex = regex if len(key) == 1 and len(slots) == 1 else None
        if self.regex is not None:
            self.whole = (slots[0][0], slots[0][2])
        self.child = _Node()


class _Tail:
    """A rule whose remaining path is matched by one regex (``path`` vars)."""

    __slots__ = ("order", "fullmatch", "slots", "rule", "ends_with_slash", "regex")

    def __init__(
        self,
        order: tuple[t.Any, ...],
        fullmatch: t.Callable[[str], re.Match[str] | None],
        slots: tuple[_Slot, ...],
        rule: Rule,
        ends_with_slash: bool,
        regex: str | None,
    ) -> None:
        self.order = order
        self.fullmatch = fullmatch
        self.slots = slots
        self.rule = rule
        self.ends_with_slash = ends_with_slash
        #: The converter's regex when the rest of the path is exactly one variable.
        self.regex = regex


def _to_python(conv: BaseConverter) -> t.Callable[[str], t.Any] | None:
    # PERF: skip the call for converters whose to_python is the identity, and
    # for number converters without options, call float directly (its regex
    # guarantees the text parses) and parse_int for int (which fails only on
    # text too long to convert); the generated code inlines both.
    cls = type(conv)
    if cls.to_python is BaseConverter.to_python:
        return None
    if (
        isinstance(conv, NumberConverter)
        and cls.to_python is NumberConverter.to_python
        and not conv.fixed_digits
        and conv.min is None
        and conv.max is None
    ):
        num_convert = type(conv).num_convert
        if num_convert is IntegerConverter.num_convert:
            return parse_int
        if num_convert is FloatConverter.num_convert:
            return float
    return conv.to_python


def _compile(parts: t.Sequence[Part | None], rule: Rule) -> _Compiled:
    """Compile parts (None marks a ``/``) into a regex, its slots and weights."""
    pattern = []
    slots: list[_Slot] = []
    static_len = 0
    weights = []
    regexes = []
    for part in parts:
        if part is None:
            pattern.append("/")
            static_len += 1
        elif isinstance(part, Variable):
            conv = rule._converters[part.name]
            group = f"_{len(slots)}"
            pattern.append(f"(?P<{group}>{conv.regex})")
            regexes.append(conv.regex)
            slots.append((part.name, group, _to_python(conv)))
            weights.append(conv.weight)
        else:
            pattern.append(re.escape(part))
            static_len += len(part)
    try:
        # DOTALL: a "." in a converter regex also matches a decoded newline.
        compiled = re.compile("".join(pattern), re.DOTALL)
    except re.error as e:
        raise ValueError(
            f"URL rule {rule.rule!r} compiles to an invalid regular expression"
            f" {''.join(pattern)!r} ({e}); check the regex of its converters."
        ) from e
    whole = regexes[0] if len(parts) == 1 and regexes else None
    return compiled.fullmatch, tuple(slots), static_len, tuple(weights), whole


def _convert(slots: tuple[_Slot, ...], m: re.Match[str], vals: _Values) -> bool:
    for name, group, to_python in slots:
        text = m.group(group)
        if to_python is None:
            vals.append((name, text))
        else:
            try:
                vals.append((name, to_python(text)))
            except ValidationError:
                return False
    return True


class Matcher:
    """Matches (domain, path, method) to a rule; built incrementally.

    ``lock`` (reentrant; ``Map`` passes its own) is held while the trie
    changes and while code is generated from it, never while matching.
    """

    def __init__(self, lock: threading.RLock | None = None) -> None:
        self.lock = threading.RLock() if lock is None else lock
        self.root = _Node()
        #: ``{domain: {path: [rules]}}`` for rules without variables.
        self.static: dict[str, dict[str, list[Rule]]] = {}
        #: ``static[""]``, the common case, without a lookup (PERF: ~200
        #: instructions per dynamic match).
        self.static_no_domain: dict[str, list[Rule]] = self.static.setdefault("", {})
        self._seq = 0
        self._compiled: dict[tuple[t.Any, ...], _Compiled] = {}
        #: The generated match function; None until the first match after a change.
        self.find: MatchFunc | None = None
        self._generator = Generator({"ValidationError": ValidationError}, self.lock)

    # -- building -------------------------------------------------------

    def add(self, rule: Rule) -> None:
        """Insert a bound rule."""
        if rule.build_only:
            return
        with self.lock:
            self._add(rule)

    def _add(self, rule: Rule) -> None:
        # Lists in the trie only ever grow by insertion, so a walk in another
        # thread, iterating one by index, sees an item twice but never skips one.
        self.find = None
        self._seq += 1
        seq = self._seq
        node = self._child(self.root, rule._domain_parts, rule, seq)
        segments = rule._segments
        tail_at = None
        for index, segment in enumerate(segments):
            if any(
                isinstance(p, Variable) and not rule._converters[p.name].part_isolating
                for p in segment
            ):
                tail_at = index
                break
        for segment in segments if tail_at is None else segments[:tail_at]:
            node = self._child(node, segment, rule, seq)
        if tail_at is None:
            node.rules.append(rule)
            if rule._static_path is not None and rule._static_domain is not None:
                by_path = self.static.setdefault(rule._static_domain, {})
                by_path.setdefault(rule._static_path, []).append(rule)
            return
        parts: list[Part | None] = []
        for index, segment in enumerate(segments[tail_at:]):
            if index:
                parts.append(None)
            parts.extend(segment)
        fullmatch, slots, static_len, weights, regex = _compile(parts, rule)
        order = (-static_len, weights, seq)
        tail = _Tail(order, fullmatch, slots, rule, not segments[-1], regex)
        bisect.insort(node.tails, tail, key=lambda x: x.order)

    def _child(self, node: _Node, parts: list[Part], rule: Rule, seq: int) -> _Node:
        if all(isinstance(p, str) for p in parts):
            key = "".join(t.cast(list[str], parts))
            child = node.static.get(key)
            if child is None:
                child = node.static[key] = _Node()
            return child
        dyn_key = tuple(
            p if isinstance(p, str) else (*p, type(rule._converters[p.name])) for p in parts
        )
        for dyn in node.dynamic:
            if dyn.key == dyn_key:
                return dyn.child
        # PERF: many rules share segment shapes ("<int:id>"); compile each once.
        compiled = self._compiled.get(dyn_key)
        if compiled is None:
            compiled = self._compiled[dyn_key] = _compile(parts, rule)
        fullmatch, slots, static_len, weights, regex = compiled
        dyn = _Dynamic(dyn_key, (-static_len, weights, seq), fullmatch, slots, regex)
        bisect.insort(node.dynamic, dyn, key=lambda x: x.order)
        return dyn.child

    # -- matching -------------------------------------------------------

    def compile(self) -> MatchFunc:
        """The match function for the current rules, generated if need be (see ``_codegen``)."""
        with self.lock:
            find = self.find
            if find is None:  # not generated meanwhile by another thread
                find = self.find = self._generator.compile(self.root)
        return find

    def source(self) -> str:
        """The generated source of the match function, with its constants."""
        with self.lock:
            self.compile()
            self._generator.generate_pending()
            units = list(self._generator.units)
        chunks = []
        for source, consts in units:
            names = "".join(f"# k{i} = {const!r}\n" for i, const in enumerate(consts))
            chunks.append(names + source)
        return "\n".join(chunks)

    def match(
        self, domain: str, path: str, method: str, websocket: bool
    ) -> tuple[Rule, dict[str, t.Any]]:
        """Find the rule for ``path`` (which starts with ``/``) and its values.

        The values include the rule's defaults. Raises ``NoMatch`` (with the
        methods that matched the path) or ``SlashRequired``.
        """
        found = (self.find or self.compile())(domain, path, method, websocket)
        if found:
            return found
        return self.walk(domain, path, method, websocket)

    def walk(
        self, domain: str, path: str, method: str, websocket: bool
    ) -> tuple[Rule, dict[str, t.Any]]:
        """``match`` by walking the trie: slower, but it records why nothing matched.

        The generated function is only the fast path; this is the reference.
        """
        segs = path[1:].split("/")
        n = len(segs)
        miss: set[str] = set()
        vals: _Values = []
        root = self.root
        child = root.static.get(domain)
        if child is not None:
            rule = _walk(child, segs, 0, n, method, websocket, vals, miss)
            if rule is not None:
                return rule, _values(rule, vals)
        for dyn in root.dynamic:
            m = dyn.fullmatch(domain)
            if m is None or not _convert(dyn.slots, m, vals):
                del vals[:]
                continue
            rule = _walk(dyn.child, segs, 0, n, method, websocket, vals, miss)
            if rule is not None:
                return rule, _values(rule, vals)
            del vals[:]
        websocket_mismatch = _WEBSOCKET_MISMATCH in miss
        miss.discard(_WEBSOCKET_MISMATCH)
        raise NoMatch(miss, websocket_mismatch)


def _values(rule: Rule, vals: _Values) -> dict[str, t.Any]:
    """The values of a match: the rule's defaults updated with ``vals``."""
    if rule.defaults:
        return {**rule.defaults, **dict(vals)}
    return dict(vals)


def _accept(rule: Rule, method: str, websocket: bool, miss: set[str]) -> bool:
    if rule.methods is not None and method not in rule.methods:
        miss.update(rule.methods)
        return False
    if rule.websocket != websocket:
        miss.add(_WEBSOCKET_MISMATCH)
        return False
    return True


def _walk(
    node: _Node,
    segs: list[str],
    i: int,
    n: int,
    method: str,
    websocket: bool,
    vals: _Values,
    miss: set[str],
) -> Rule | None:
    rule: Rule | None
    if i == n:
        for rule in node.rules:
            if (rule.methods is None or method in rule.methods) and rule.websocket == websocket:
                return rule
            _accept(rule, method, websocket, miss)
        # "/a" against a rule "/a/": redirect (strict) or match (not strict).
        slash = node.static.get("")
        if slash is not None:
            for rule in slash.rules:
                if (rule.methods is None or method in rule.methods) and rule.websocket == websocket:
                    if rule.strict_slashes:
                        raise SlashRequired()
                    return rule
        return None

    seg = segs[i]
    child = node.static.get(seg)
    if child is not None:
        rule = _walk(child, segs, i + 1, n, method, websocket, vals, miss)
        if rule is not None:
            return rule
    if node.dynamic:
        mark = len(vals)
        for dyn in node.dynamic:
            m = dyn.fullmatch(seg)
            if m is None:
                continue
            whole = dyn.whole
            if whole is not None:
                name, to_python = whole
                if to_python is None:
                    vals.append((name, seg))
                else:
                    try:
                        vals.append((name, to_python(seg)))
                    except ValidationError:
                        continue
            elif not _convert(dyn.slots, m, vals):
                del vals[mark:]
                continue
            rule = _walk(dyn.child, segs, i + 1, n, method, websocket, vals, miss)
            if rule is not None:
                return rule
            del vals[mark:]
    if node.tails:
        rule = _match_tails(node.tails, "/".join(segs[i:]), method, websocket, vals, miss)
        if rule is not None:
            return rule
    if not seg and i == n - 1:
        # "/a/" against a rule "/a" that does not insist on slashes.
        for rule in node.rules:
            if not rule.strict_slashes and _accept(rule, method, websocket, miss):
                return rule
    return None


def _match_tails(
    tails: list[_Tail],
    rest: str,
    method: str,
    websocket: bool,
    vals: _Values,
    miss: set[str],
) -> Rule | None:
    mark = len(vals)
    for tail in tails:
        rule = tail.rule
        redirect = False
        m = tail.fullmatch(rest)
        if m is None:
            if tail.ends_with_slash:
                m = tail.fullmatch(rest + "/")
                redirect = bool(rule.strict_slashes)
            elif not rule.strict_slashes and rest.endswith("/"):
                m = tail.fullmatch(rest[:-1])
            if m is None:
                continue
        if redirect:
            if (rule.methods is None or method in rule.methods) and rule.websocket == websocket:
                if _convert(tail.slots, m, vals):
                    raise SlashRequired()
                del vals[mark:]
            continue
        if _convert(tail.slots, m, vals) and _accept(rule, method, websocket, miss):
            return rule
        del vals[mark:]
    return None
