"""The app's JSON provider as jsonify uses it: options, hooks and overrides."""

from __future__ import annotations

import dataclasses
import decimal
import threading
import typing as t
import uuid
from datetime import date

import pytest

from erlen import Erlen
from erlen import jsonify
from erlen.json.provider import DefaultJSONProvider


def body(app: Erlen, *args: t.Any, **kwargs: t.Any) -> bytes:
    with app.app_context():
        response = jsonify(*args, **kwargs)
        assert response.mimetype == app.json.mimetype  # type: ignore[attr-defined]
        return response.get_data()


def test_compact_sorted_ascii_by_default(app: Erlen) -> None:
    assert body(app, {"b": 1, "a": [1, 2.5, None, True]}) == b'{"a":[1,2.5,null,true],"b":1}\n'
    assert body(app, "é") == b'"\\u00e9"\n'
    assert body(app, 1, 2) == b"[1,2]\n"
    assert body(app, b=1, a=2) == b'{"a":2,"b":1}\n'
    assert body(app) == b"null\n"
    assert body(app, float("nan")) == b"NaN\n"


def test_settings_take_effect_after_earlier_responses(app: Erlen) -> None:
    provider = t.cast(DefaultJSONProvider, app.json)
    assert body(app, {"b": 1, "a": "é"}) == b'{"a":"\\u00e9","b":1}\n'
    provider.sort_keys = False
    provider.ensure_ascii = False
    assert body(app, {"b": 1, "a": "é"}) == '{"b":1,"a":"é"}\n'.encode()
    provider.compact = False
    assert body(app, {"a": 1}) == b'{\n  "a": 1\n}\n'


def test_pretty_in_debug_unless_compact(app: Erlen) -> None:
    app.debug = True
    assert body(app, {"a": [1]}) == b'{\n  "a": [\n    1\n  ]\n}\n'
    t.cast(DefaultJSONProvider, app.json).compact = True
    assert body(app, {"a": [1]}) == b'{"a":[1]}\n'


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Markup:
    def __html__(self) -> str:
        return "<b>hi</b>"


def test_default_hook_types(app: Erlen) -> None:
    value = {
        "date": date(2024, 5, 1),
        "uuid": uuid.UUID(int=1),
        "decimal": decimal.Decimal("1.10"),
        "point": Point(1, 2),
        "html": Markup(),
    }
    assert body(app, value) == (
        b'{"date":"Wed, 01 May 2024 00:00:00 GMT","decimal":"1.10",'
        b'"html":"<b>hi</b>","point":{"x":1,"y":2},'
        b'"uuid":"00000000-0000-0000-0000-000000000001"}\n'
    )
    with pytest.raises(TypeError, match="not JSON serializable"):
        body(app, {"x": object()})
    # The provider still works after an error in the middle of a body.
    assert body(app, [Point(3, 4)]) == b'[{"x":3,"y":4}]\n'


def test_default_hook_can_be_replaced(app: Erlen) -> None:
    assert body(app, [1]) == b"[1]\n"
    app.json.default = lambda o: "custom"  # type: ignore[attr-defined]
    assert body(app, [object()]) == b'["custom"]\n'


def test_circular_reference_is_a_value_error(app: Erlen) -> None:
    loop: list[t.Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        body(app, loop)
    cyclic: dict[str, t.Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(ValueError, match="Circular reference"):
        body(app, {"a": cyclic})
    # A default hook that returns its argument is a cycle too.
    app.json.default = lambda o: o  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="Circular reference"):
        body(app, [object()])


def test_deep_but_finite_nesting_is_a_recursion_error(app: Erlen) -> None:
    deep: list[t.Any] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(RecursionError):
        body(app, deep)


def test_the_same_object_from_several_threads(app: Erlen) -> None:
    # An encoder shared between threads must not mistake the same object,
    # encoded by two threads at once, for a cycle.
    barrier = threading.Barrier(2, timeout=5)

    class Slow:
        pass

    def default(o: t.Any) -> t.Any:
        barrier.wait()
        return "slow"

    app.json.default = default  # type: ignore[attr-defined]
    shared = {"a": [Slow()]}
    results: list[bytes] = []

    def run() -> None:
        results.append(body(app, shared))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [b'{"a":["slow"]}\n'] * 2


def test_provider_overrides(app: Erlen) -> None:
    class Dumps(DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return "custom:" + super().dumps(obj, **kwargs)

    app.json = Dumps(app)
    assert body(app, {"a": 1}) == b'custom:{"a":1}\n'

    class Vendor(DefaultJSONProvider):
        mimetype = "application/vnd.erlen+json"
        ensure_ascii = False
        sort_keys = False

    app.json = Vendor(app)
    assert body(app, {"b": "é", "a": 1}) == '{"b":"é","a":1}\n'.encode()
    with app.app_context():
        assert jsonify(1).headers["Content-Type"] == "application/vnd.erlen+json"


def test_response_class_is_the_apps(app: Erlen) -> None:
    class Mine(app.response_class):  # type: ignore[name-defined,misc]
        pass

    app.response_class = Mine
    with app.app_context():
        assert type(jsonify(1)) is Mine


def test_a_custom_default_runs_once_for_an_object_in_a_cycle() -> None:
    class Thing:
        pass

    calls: list[object] = []
    app = Erlen(__name__)

    def default(o: object) -> object:
        calls.append(o)
        return data

    app.json.default = default  # type: ignore[attr-defined]
    data: dict[str, object] = {"thing": Thing()}
    with app.app_context():
        with pytest.raises(ValueError, match="Circular reference"):
            jsonify(data)
    assert len(calls) == 1
