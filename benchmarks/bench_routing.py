"""Benchmark erlen.routing: matching, map construction and URL building.

Run: ``python benchmarks/bench_routing.py`` (from the repository root). Maps
have N rules, half static (``/static{i}/page``) and half dynamic
(``/dyn{i}/<int:id>/<name>``). "last" means the last-added rule of its kind,
the worst case for a router that scans rules in order. Prints a table; it
asserts nothing.
"""

from __future__ import annotations

import os
import sys
import time
import timeit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from erlen.routing import Map  # noqa: E402
from erlen.routing import Rule  # noqa: E402


def make_rules(n: int) -> list[Rule]:
    rules = []
    for i in range(n // 2):
        rules.append(Rule(f"/static{i}/page", endpoint=f"static{i}"))
        rules.append(Rule(f"/dyn{i}/<int:id>/<name>", endpoint=f"dyn{i}"))
    return rules


def per_call(stmt: object, number: int) -> float:
    """Best of 5 runs, in microseconds per call."""
    # CPU time, not wall time: steadier on a shared machine.
    timer = timeit.Timer(stmt, timer=time.process_time)  # type: ignore[arg-type]
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def generate_ms(every_unit: bool) -> float:
    """Best of 10, in ms: generate the code of a map of 1,000 rules."""
    best = float("inf")
    for _ in range(10):
        url_map = Map(make_rules(1000))
        matcher = url_map._get_matcher()
        start = time.process_time()
        matcher.compile()
        if every_unit:
            matcher._generator.generate_pending()
        best = min(best, time.process_time() - start)
    return best * 1e3


def add_then_match_ms() -> float:
    """Best of 5, in ms: add a rule after matching started, then match (which
    generates the code again)."""
    url_map = Map(make_rules(2000))
    adapter = url_map.bind("example.com")
    adapter.match("/dyn5/1/a")
    best = float("inf")
    for run in range(5):
        start = time.process_time()
        for j in range(20):
            url_map.add(Rule(f"/new{run}_{j}/<int:x>", endpoint=f"new{run}_{j}"))
            adapter.match(f"/dyn{j}/3/a")
        best = min(best, (time.process_time() - start) / 20)
    return best * 1e3


def main() -> None:
    rows: list[tuple[str, str]] = []
    for n in (10, 100, 1000):
        url_map = Map(make_rules(n))
        adapter = url_map.bind("example.com")
        last = n // 2 - 1
        static_path = f"/static{last}/page"
        dynamic_path = f"/dyn{last}/42/alice"
        assert adapter.match(static_path) == (f"static{last}", {})
        assert adapter.match(dynamic_path) == (f"dyn{last}", {"id": 42, "name": "alice"})
        rows.append(
            (
                f"match static, {n} rules",
                f"{per_call(lambda a=adapter, p=static_path: a.match(p), 200_000):.2f} us",
            )
        )
        rows.append(
            (
                f"match dynamic, {n} rules",
                f"{per_call(lambda a=adapter, p=dynamic_path: a.match(p), 100_000):.2f} us",
            )
        )
        # The app's hot path: the generated function, without the adapter.
        find = url_map.find
        assert find("", dynamic_path, "GET", False)
        find_time = per_call(lambda f=find, p=dynamic_path: f("", p, "GET", False), 100_000)
        rows.append((f"Map.find dynamic, {n} rules", f"{find_time:.2f} us"))

    def build_map() -> None:
        url_map = Map(make_rules(1000))
        url_map.update()

    # update() builds the trie and generates the matching code.
    rows.append(("make 1,000 Rules + Map + compile", f"{per_call(build_map, 20) / 1000:.2f} ms"))
    rules = make_rules(1000)

    def map_only() -> None:
        url_map = Map()
        for rule in rules:
            rule.map = None
            url_map.add(rule)
        url_map.update()

    rows.append(
        ("Map.add x1,000 + compile (rules made)", f"{per_call(map_only, 20) / 1000:.2f} ms")
    )

    # Generating the code alone (the trie built): units behind a dispatch dict
    # wait for their first match, unless every unit is generated at once.
    lazy, eager = generate_ms(False), generate_ms(True)
    rows.append(("generate code, 1,000 rules", f"{lazy:.2f} ms"))
    rows.append(("generate code, 1,000 rules, every unit", f"{eager:.2f} ms"))
    rows.append(("Map.add + dynamic match, 2,000 rules", f"{add_then_match_ms():.2f} ms"))

    url_map = Map(make_rules(1000))
    adapter = url_map.bind("example.com")
    values = {"id": 42, "name": "alice"}
    built = adapter.build("dyn499", values)
    assert built == "/dyn499/42/alice", built
    rows.append(
        (
            "build dynamic endpoint",
            f"{per_call(lambda: adapter.build('dyn499', values), 200_000):.2f} us",
        )
    )
    rows.append(
        ("build static endpoint", f"{per_call(lambda: adapter.build('static499'), 200_000):.2f} us")
    )
    rows.append(("Map.bind", f"{per_call(lambda: url_map.bind('example.com'), 200_000):.2f} us"))

    width = max(len(name) for name, _ in rows)
    print(f"{'erlen.routing':<{width}}  time")
    print(f"{'-' * width}  ---------")
    for name, value in rows:
        print(f"{name:<{width}}  {value:>9}")


if __name__ == "__main__":
    main()
