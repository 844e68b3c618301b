"""Generate the Python source of the matcher's fast path from its trie.

``Matcher`` keeps its trie as data (easy to insert into, and walked by the
reference implementation ``_walk``). Walking data costs a Python call, a
regex and list bookkeeping per segment, so at the first match after a change
the trie is turned into plain code instead: nested ``if`` statements that
compare segments with constants, test ``isdigit()`` for ``int`` converters,
keep converted values in local variables and return ``(rule, values)`` with
the values dict built in one expression. For ``/user/<int:id>`` (GET) the
core is (``k1`` is ``'user'``, ``k2`` ``'id'``, ``k3`` the methods, ``k4`` the
rule)::

    segs = path.split('/')
    n = len(segs)
    ...
            s1 = segs[1]
            if s1 == k1:
                if n != 2:
                    s2 = segs[2]
                    if s2.isdigit() and s2.isascii():
                        try:
                            v2_0 = int(s2)
                        except ValueError:  # over 4,300 digits: no match
                            pass
                        else:
                            if n == 3:
                                if method in k3 and not websocket:
                                    return k4, {k2: v2_0}

Each generated function (a "unit") covers a subtree. A node with many static
children dispatches through a dict of one unit per child, each generated at
its child's first match (``_Pending``); a subtree nested too deeply for one
function also gets its own unit. Units name rules,
converters, regexes, static text and variable names only as ``k0``, ``k1``...
(closure variables filled in by a factory), so structurally equal subtrees
(``/r1/<int:id>``, ``/r2/<int:post_id>``...) produce the same source,
compiled once per generation of the code.

Tails (``path`` converters) are tried inline too, like ``_match_tails``; a
tail that is just ``<path:p>`` becomes ``rest and rest[0] != '/'`` instead of
its regex (a static file: 9k instead of 20k instructions through
``MapAdapter.match``).

The generated code follows ``_walk`` step for step, except that it records
nothing about failures: when it finds no rule, the matcher runs ``_walk`` to
learn the methods for 405, and where ``_walk`` would raise ``SlashRequired``
it returns False. ``Matcher.source()`` shows the generated source with its
constants.
"""

from __future__ import annotations

import itertools
import re
import threading
import typing as t

from .converters import PathConverter
from .converters import parse_int

if t.TYPE_CHECKING:
    from .matcher import _Dynamic
    from .matcher import _Node
    from .matcher import _Tail
    from .rules import Rule

__all__ = ["Generator", "MatchFunc"]

#: ``(domain, path, method, websocket) -> (rule, values)``; None when no rule
#: matched; False when ``Matcher.walk`` must decide (a slash redirect).
MatchFunc: t.TypeAlias = t.Callable[
    [str, str, str, bool], "tuple[Rule, dict[str, t.Any]] | t.Literal[False] | None"
]

# Above this many static children a node dispatches through a dict of units
# instead of an if/elif chain (a string comparison costs ~150 instructions,
# a dict lookup plus a call ~800).
_FANOUT = 6
# Deeper nesting than this (in indentation levels) continues in a new unit;
# CPython refuses source nested about 100 levels deep.
_MAX_INDENT = 40

_numbers = itertools.count()
PATH_REGEX = PathConverter.regex
_bounded_length = re.compile(r"\[\^/\]\{(\d+)(,?)(\d*)\}").fullmatch


def _segment_test(regex: str, text: str) -> str | None:
    """A Python condition equal to ``re.fullmatch(regex, text)`` for a segment.

    Only for path segments, which never contain ``/``. None when there is no
    cheaper equivalent than the regex.
    """
    # PERF: str methods instead of Pattern.fullmatch: 350 instead of 1,700
    # instructions for an int segment.
    if regex == "[0-9]+":
        # isdigit() alone also accepts non-ASCII digits ("²", "٣").
        return f"{text}.isdigit() and {text}.isascii()"
    if regex == "[^/]+":
        return text
    m = _bounded_length(regex)
    if m is None:
        return None
    low, comma, high = m.groups()
    if not comma:
        return f"len({text}) == {int(low)}"
    if high:
        return f"{int(low)} <= len({text}) <= {int(high)}"
    return f"len({text}) >= {int(low)}" if int(low) else "True"


class _Unit:
    """The source lines of one generated function and the objects it names."""

    def __init__(self, signature: str) -> None:
        self.signature = signature
        self.lines: list[str] = []
        self.consts: list[object] = []
        self._names: dict[int, str] = {}

    def const(self, obj: object) -> str:
        """The name (``k0``, ``k1``...) under which the function sees ``obj``."""
        name = self._names.get(id(obj))
        if name is None:
            name = self._names[id(obj)] = f"k{len(self.consts)}"
            self.consts.append(obj)
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def source(self) -> str:
        """A factory taking the constants and returning the function."""
        params = ", ".join(f"k{i}" for i in range(len(self.consts)))
        body = "\n".join(self.lines)
        return (
            f"def _factory({params}):\n"
            f"    def _unit({self.signature}):\n"
            f"{body}\n"
            f"        return None\n"
            f"    return _unit\n"
        )


# (variable name, Python expression holding its value) for the values so far.
_Bound = list[tuple[str, str]]


class Generator:
    """Turns a trie into match functions; compiles each distinct source once.

    ``namespace`` holds the globals the generated code uses
    (``ValidationError``). ``lock`` is the one held while the trie changes:
    callers of ``compile`` hold it, and ``_Pending`` takes it to generate.
    """

    def __init__(self, namespace: dict[str, t.Any], lock: threading.RLock) -> None:
        self.namespace = namespace
        self.lock = lock
        # Factories by source: those of the last compile, and while compiling,
        # those of the one before (so memory follows the current rules only).
        self._factories: dict[str, t.Callable[..., t.Any]] = {}
        self._previous: dict[str, t.Callable[..., t.Any]] = {}
        #: ``(source, constants)`` of every unit generated since ``compile``.
        self.units: list[tuple[str, list[object]]] = []
        # Units of the last compile not generated yet (see _Pending).
        self._pending: list[_Pending] = []

    def compile(self, root: _Node) -> MatchFunc:
        """The match function for the trie under ``root``."""
        self.units = []
        self._pending = []
        self._previous, self._factories = self._factories, {}
        unit = _Unit("domain, path, method, websocket")
        unit.emit(2, "segs = path.split('/')")
        unit.emit(2, "n = len(segs)")
        # PERF: the caller adds a missing leading slash only when nothing
        # matched (400 instructions less per match than checking first).
        unit.emit(2, "if segs[0] or n == 1:")
        unit.emit(3, "return None")
        # The root's children are domains (subdomains or hosts), then segment 1.
        self._children(unit, root, "domain", 1, [], 2, is_segment=False)
        find = t.cast(MatchFunc, self._finish(unit))
        self._previous = {}
        return find

    def generate_pending(self) -> None:
        """Generate every unit still waiting for its first match (for ``source``)."""
        while self._pending:
            self._pending.pop().generate()

    def _finish(self, unit: _Unit) -> t.Callable[..., t.Any]:
        source = unit.source()
        factory = self._factories.get(source) or self._previous.get(source)
        if factory is None:
            namespace = dict(self.namespace)
            # The name tracebacks show; Matcher.source() has the text.
            name = f"<erlen.routing generated {next(_numbers)}>"
            exec(compile(source, name, "exec"), namespace)
            factory = namespace["_factory"]
        self._factories[source] = factory
        self.units.append((source, unit.consts))
        return factory(*unit.consts)  # type: ignore[no-any-return]

    def _subunit(self, node: _Node, i: int, bound: _Bound) -> t.Callable[..., t.Any]:
        """A unit matching ``node``'s subtree, called with the values so far."""
        params = [f"a{j}" for j in range(len(bound))]
        unit = _Unit(", ".join(["segs", "n", "method", "websocket", *params]))
        self._node(
            unit, node, i, [(name, p) for (name, _), p in zip(bound, params, strict=True)], 2
        )
        return self._finish(unit)

    def _call(self, unit: _Unit, func: str, bound: _Bound, indent: int) -> None:
        args = ", ".join(["segs", "n", "method", "websocket", *(expr for _, expr in bound)])
        unit.emit(indent, f"found = {func}({args})")
        unit.emit(indent, "if found is not None:")
        unit.emit(indent + 1, "return found")

    def _node(self, unit: _Unit, node: _Node, i: int, bound: _Bound, indent: int) -> None:
        """Code that returns a match in ``node``'s subtree, or falls through.

        ``i`` is the index in ``segs`` of the segment after ``node``.
        """
        if indent > _MAX_INDENT:
            self._call(unit, unit.const(self._subunit(node, i, bound)), bound, indent)
            return
        pairs = _pairs(unit, bound)
        slash = node.static.get("")
        slash_rules = slash.rules if slash is not None else []
        if i == 1:
            # A domain: the path has a segment 1 (checked on entry).
            indent -= 1
        elif node.rules or slash_rules:
            # Every segment used: the node's rules, then "/a" for a rule "/a/".
            unit.emit(indent, f"if n == {i}:")
            for rule in node.rules:
                unit.emit(indent + 1, f"if {_accepts(unit, rule)}:")
                unit.emit(indent + 2, f"return {_result(unit, rule, pairs)}")
            for rule in slash_rules:
                unit.emit(indent + 1, f"if {_accepts(unit, rule)}:")
                unit.emit(indent + 2, f"if {unit.const(rule)}.strict_slashes:")
                unit.emit(indent + 3, "return False  # redirect to the URL with a slash")
                unit.emit(indent + 2, f"return {_result(unit, rule, pairs)}")
            unit.emit(indent, "else:")
        else:
            unit.emit(indent, f"if n != {i}:")
        indent += 1
        start = len(unit.lines)
        text = f"s{i}"
        if node.static or node.dynamic or node.rules:
            unit.emit(indent, f"{text} = segs[{i}]")
            self._children(unit, node, text, i + 1, bound, indent, is_segment=True)
        if node.tails:
            rest = f"r{i}"
            unit.emit(indent, f"{rest} = '/'.join(segs[{i}:])")
            for tail in node.tails:
                self._tail(unit, tail, rest, i, bound, indent)
        if node.rules:
            # "/a/" against a rule "/a" that does not insist on slashes.
            unit.emit(indent, f"if not {text} and n == {i + 1}:")
            for rule in node.rules:
                r = unit.const(rule)
                unit.emit(indent + 1, f"if not {r}.strict_slashes and {_accepts(unit, rule)}:")
                unit.emit(indent + 2, f"return {_result(unit, rule, pairs)}")
        if len(unit.lines) == start:
            unit.emit(indent, "pass")

    def _children(
        self,
        unit: _Unit,
        node: _Node,
        text: str,
        i: int,
        bound: _Bound,
        indent: int,
        is_segment: bool,
    ) -> None:
        """Code trying the static, then the dynamic children for ``text``."""
        static = node.static
        if len(static) > _FANOUT:
            # PERF: each child's unit is generated at its first match: for
            # 1,000 rules, generating the code takes ~0.7 ms instead of ~20 ms
            # for every unit, out of ~25 ms to build the map and its trie
            # (benchmarks/bench_routing.py).
            units: dict[str, t.Callable[..., t.Any]] = {}
            for key, child in static.items():
                units[key] = _Pending(self, units, key, child, i, list(bound))
            unit.emit(indent, f"func = {unit.const(units)}.get({text})")
            unit.emit(indent, "if func is not None:")
            self._call(unit, "func", bound, indent + 1)
        else:
            keyword = "if"
            for key, child in static.items():
                unit.emit(indent, f"{keyword} {text} == {unit.const(key)}:")
                self._node(unit, child, i, bound, indent + 1)
                keyword = "elif"
        for dyn in node.dynamic:
            self._dynamic(unit, dyn, text, i, bound, indent, is_segment)

    def _dynamic(
        self,
        unit: _Unit,
        dyn: _Dynamic,
        text: str,
        i: int,
        bound: _Bound,
        indent: int,
        is_segment: bool,
    ) -> None:
        """Code trying one dynamic child: test, convert, then its subtree."""
        converts: list[tuple[str, str, t.Any]] = []  # (name, text expr, to_python)
        test = None
        if dyn.whole is not None:
            if is_segment and dyn.regex is not None:
                test = _segment_test(dyn.regex, text)
            if test is None:
                test = f"{unit.const(dyn.fullmatch)}({text}) is not None"
            converts.append((dyn.whole[0], text, dyn.whole[1]))
        else:
            m = f"m{i}"
            unit.emit(indent, f"{m} = {unit.const(dyn.fullmatch)}({text})")
            test = f"{m} is not None"
            for name, group, to_python in dyn.slots:
                converts.append((name, f"{m}.group({group!r})", to_python))
        unit.emit(indent, f"if {test}:")
        bound = list(bound)
        indent = _convert(unit, converts, f"v{i - 1}", bound, indent + 1)
        self._node(unit, dyn.child, i, bound, indent)

    def _tail(
        self, unit: _Unit, tail: _Tail, rest: str, i: int, bound: _Bound, indent: int
    ) -> None:
        """Code trying one tail rule against ``rest``, like ``_match_tails``."""
        rule = tail.rule
        r = unit.const(rule)
        bound = list(bound)
        if (
            tail.regex == PATH_REGEX
            and len(tail.slots) == 1
            and tail.slots[0][2] is None
            and not tail.ends_with_slash
        ):
            # PERF: "/<path:p>": the regex means "not empty, no leading /";
            # without it the slash variants below can never match either.
            bound.append((tail.slots[0][0], rest))
            unit.emit(indent, f"if {rest} and {rest}[0] != '/' and {_accepts(unit, rule)}:")
            unit.emit(indent + 1, f"return {_result(unit, rule, _pairs(unit, bound))}")
            return
        fullmatch = unit.const(tail.fullmatch)
        m = f"t{i}"  # not m{i}: that may hold the match of the segment before
        converts = [
            (name, f"{m}.group({group!r})", to_python) for name, group, to_python in tail.slots
        ]
        unit.emit(indent, f"{m} = {fullmatch}({rest})")
        unit.emit(indent, f"if {m} is None:")
        if tail.ends_with_slash:
            # "/a/b" against "/<path:p>/": redirect when strict, else match.
            unit.emit(indent + 1, f"{m} = {fullmatch}({rest} + '/')")
            unit.emit(indent + 1, f"if {m} is not None and {r}.strict_slashes:")
            unit.emit(indent + 2, f"if {_accepts(unit, rule)}:")
            inner = _convert(unit, converts, f"w{i}", list(bound), indent + 3)
            unit.emit(inner, "return False  # redirect to the URL with a slash")
            unit.emit(indent + 2, f"{m} = None")
        else:
            # "/a/b/" against "/<path:p>" that does not insist on slashes.
            unit.emit(indent + 1, f"if not {r}.strict_slashes and {rest}.endswith('/'):")
            unit.emit(indent + 2, f"{m} = {fullmatch}({rest}[:-1])")
        unit.emit(indent, f"if {m} is not None:")
        inner = _convert(unit, converts, f"w{i}", bound, indent + 1)
        unit.emit(inner, f"if {_accepts(unit, rule)}:")
        unit.emit(inner + 1, f"return {_result(unit, rule, _pairs(unit, bound))}")


class _Pending:
    """Stands in a dispatch dict for a child's unit until its first match."""

    __slots__ = ("generator", "table", "key", "node", "i", "bound")

    def __init__(
        self,
        generator: Generator,
        table: dict[str, t.Callable[..., t.Any]],
        key: str,
        node: _Node,
        i: int,
        bound: _Bound,
    ) -> None:
        self.generator = generator
        self.table = table
        self.key = key
        self.node = node
        self.i = i
        self.bound = bound
        generator._pending.append(self)

    def generate(self) -> t.Callable[..., t.Any]:
        """Generate the unit and put it in the dict in place of this stand-in."""
        current = self.table[self.key]
        if current is not self:  # generated already (by another thread, or source())
            return current
        # The trie must not change while it is read (Map.add holds this lock).
        # A rule added since this dict was made leaves it only to callers of
        # code older than Map.find: they get a unit of the current subtree.
        with self.generator.lock:
            current = self.table[self.key]
            if current is self:
                current = self.table[self.key] = self.generator._subunit(
                    self.node, self.i, self.bound
                )
        return current

    def __call__(self, *args: t.Any) -> t.Any:
        return self.generate()(*args)


def _convert(
    unit: _Unit,
    converts: list[tuple[str, str, t.Any]],
    prefix: str,
    bound: _Bound,
    indent: int,
) -> int:
    """Code converting ``(name, text expression, to_python)`` into ``bound``.

    Returns the indentation of the code that runs when every conversion
    succeeded (a converter raising ValidationError means "no match", as does
    text with more digits than ``int()`` converts).
    """
    # Lines in conversion order (as the walk converts), grouped by the error
    # that means "no match" (None: the line can't fail).
    groups: list[tuple[str | None, list[str]]] = []
    for k, (name, expr, to_python) in enumerate(converts):
        if to_python is None:
            bound.append((name, expr))
            continue
        var = f"{prefix}_{k}"
        bound.append((name, var))
        error: str | None
        if to_python is float:
            # The regex already guarantees the text parses (a huge number is inf).
            line, error = f"{var} = float({expr})", None
        elif to_python is parse_int:
            # PERF: parse_int inlined; the try costs nothing until int() raises.
            line, error = f"{var} = int({expr})", "ValueError"
        else:
            line, error = f"{var} = {unit.const(to_python)}({expr})", "ValidationError"
        if groups and groups[-1][0] == error:
            groups[-1][1].append(line)
        else:
            groups.append((error, [line]))
    for error, lines in groups:
        if error is None:
            for line in lines:
                unit.emit(indent, line)
            continue
        unit.emit(indent, "try:")
        for line in lines:
            unit.emit(indent + 1, line)
        unit.emit(indent, f"except {error}:")
        unit.emit(indent + 1, "pass")
        unit.emit(indent, "else:")
        indent += 1
    return indent


def _pairs(unit: _Unit, bound: _Bound) -> list[str]:
    """``name: expression`` items of the values dict."""
    return [f"{unit.const(name)}: {expr}" for name, expr in bound]


def _result(unit: _Unit, rule: Rule, pairs: list[str]) -> str:
    """The expression returned when ``rule`` matched: the rule and its values."""
    if rule.defaults:
        # Like dict(defaults) updated with the values: defaults first.
        pairs = [f"**{unit.const(rule.defaults)}", *pairs]
    return f"{unit.const(rule)}, {{{', '.join(pairs)}}}"


def _accepts(unit: _Unit, rule: Rule) -> str:
    """The condition under which ``rule`` takes the request's method and kind."""
    # PERF: the methods set and the websocket flag are read once, here, not
    # per match: 150 instead of 470 instructions per rule tried.
    kind = "websocket" if rule.websocket else "not websocket"
    if rule.methods is None:
        return kind
    return f"method in {unit.const(rule.methods)} and {kind}"
