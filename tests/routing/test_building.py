from __future__ import annotations

import typing as t

import pytest

from erlen.routing import BuildError
from erlen.routing import Map
from erlen.routing import MapAdapter
from erlen.routing import Rule


def bind(*rules: Rule, **kwargs: t.Any) -> MapAdapter:
    return Map(list(rules), **kwargs).bind("example.com")


class FakeMultiDict:
    def __init__(self, items: list[tuple[str, t.Any]]) -> None:
        self._items = items

    def keys(self) -> list[str]:
        return list(dict.fromkeys(k for k, _ in self._items))

    def getlist(self, key: str) -> list[t.Any]:
        return [v for k, v in self._items if k == key]

    def __bool__(self) -> bool:
        return bool(self._items)


def test_build_simple() -> None:
    a = bind(Rule("/", endpoint="i"), Rule("/u/<int:id>/<name>", endpoint="u"))
    assert a.build("i") == "/"
    assert a.build("u", {"id": 3, "name": "bob"}) == "/u/3/bob"
    assert a.build("u", {"id": "3", "name": "a b/ü"}) == "/u/3/a%20b/%C3%BC"


def test_build_query_string() -> None:
    a = bind(Rule("/s", endpoint="s"))
    assert a.build("s", {"q": "a b", "page": 2}) == "/s?q=a+b&page=2"
    assert a.build("s", {"tag": ["x", "y"]}) == "/s?tag=x&tag=y"
    assert a.build("s", {"q": None, "z": 1}) == "/s?z=1"
    assert a.build("s", {"q": "&=?/"}) == "/s?q=%26%3D?/"
    assert a.build("s", {"q": "x"}, append_unknown=False) == "/s"


def test_build_sorted_query() -> None:
    a = bind(Rule("/s", endpoint="s"), sort_parameters=True)
    assert a.build("s", {"b": 1, "a": 2, "c": 0}) == "/s?a=2&b=1&c=0"
    a = bind(Rule("/s", endpoint="s"), sort_parameters=True, sort_key=lambda kv: kv[1])
    assert a.build("s", {"b": 1, "a": 2, "c": 0}) == "/s?c=0&b=1&a=2"


def test_build_multidict_values() -> None:
    a = bind(Rule("/u/<name>", endpoint="u"))
    values = FakeMultiDict([("name", "bob"), ("t", "1"), ("t", "2"), ("n", None)])
    assert a.build("u", values) == "/u/bob?t=1&t=2"  # type: ignore[arg-type]


def test_build_static_unicode_rule() -> None:
    a = bind(Rule("/café/<x>", endpoint="c"))
    assert a.build("c", {"x": "1"}) == "/caf%C3%A9/1"
    assert a.match("/café/1") == ("c", {"x": "1"})


def test_build_external() -> None:
    url_map = Map([Rule("/a", endpoint="a")])
    a = url_map.bind("example.com", script_name="/app")
    assert a.build("a") == "/app/a"
    assert a.build("a", force_external=True) == "http://example.com/app/a"
    assert a.build("a", force_external=True, url_scheme="https") == "https://example.com/app/a"
    b = url_map.bind("example.com:8080", url_scheme="https")
    assert b.build("a", force_external=True) == "https://example.com:8080/a"


def test_build_method_specific() -> None:
    a = bind(
        Rule("/read", endpoint="x", methods=["GET"]),
        Rule("/write", endpoint="x", methods=["POST"]),
    )
    assert a.build("x") == "/read"
    assert a.build("x", method="POST") == "/write"
    assert a.build("x", method="HEAD") == "/read"
    b = Map([Rule("/write", endpoint="x", methods=["POST"])]).bind("e.com")
    # Without a method, rules for other methods are used when GET has none.
    assert b.build("x") == "/write"


def test_build_prefers_more_arguments() -> None:
    a = bind(Rule("/list", endpoint="x"), Rule("/list/<int:page>", endpoint="x"))
    assert a.build("x") == "/list"
    assert a.build("x", {"page": 2}) == "/list/2"


def test_build_defaults_in_path() -> None:
    a = bind(Rule("/<lang>/about", defaults={"lang": "en"}, endpoint="about"))
    assert a.build("about") == "/en/about"
    assert a.build("about", {"lang": "en"}) == "/en/about"
    with pytest.raises(BuildError):
        a.build("about", {"lang": "fr"})


def test_build_error_unknown_endpoint() -> None:
    a = bind(Rule("/u", endpoint="user"), Rule("/i", endpoint="index"))
    with pytest.raises(BuildError) as info:
        a.build("usr")
    assert str(info.value) == "Could not build url for endpoint 'usr'. Did you mean 'user' instead?"
    assert info.value.endpoint == "usr"
    assert isinstance(info.value, LookupError)
    with pytest.raises(BuildError, match="No rule has this endpoint"):
        a.build("zzzzzz")


def test_build_error_missing_values() -> None:
    a = bind(Rule("/u/<int:id>", endpoint="user"))
    with pytest.raises(BuildError) as info:
        a.build("user")
    assert str(info.value) == (
        "Could not build url for endpoint 'user'. Did you forget to specify values ['id']?"
    )
    with pytest.raises(BuildError) as info:
        a.build("user", {"x": 1})
    assert str(info.value) == (
        "Could not build url for endpoint 'user' with values ['x']."
        " Did you forget to specify values ['id']?"
    )
    assert info.value.values == {"x": 1}


def test_build_error_method() -> None:
    a = bind(Rule("/u", endpoint="user", methods=["GET"]))
    with pytest.raises(BuildError) as info:
        a.build("user", method="POST")
    assert str(info.value) == (
        "Could not build url for endpoint 'user' ('POST'). Did you mean to use methods"
        " ['GET', 'HEAD']?"
    )
    assert info.value.method == "POST"


def test_build_error_values_do_not_fit() -> None:
    a = bind(Rule("/u/<any(a, b):x>", endpoint="u"), Rule("/d", defaults={"v": 1}, endpoint="d"))
    with pytest.raises(BuildError, match="do not fit rule '/d'"):
        a.build("d", {"v": 2})


def test_build_error_without_adapter() -> None:
    assert str(BuildError("x", None, None)) == "Could not build url for endpoint 'x'."
