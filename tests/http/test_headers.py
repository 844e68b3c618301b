"""Headers: ordered, multi-valued, case-insensitive, and checked for CR/LF/NUL."""

from __future__ import annotations

import collections

import pytest

from erlen.http.exceptions import BadRequestKeyError
from erlen.http.headers import Headers


def test_construction_shapes() -> None:
    pairs = [("X-A", "1"), ("x-a", "2"), ("X-B", 3)]
    assert list(Headers(pairs)) == [("X-A", "1"), ("x-a", "2"), ("X-B", "3")]
    assert list(Headers(tuple(pairs))) == [("X-A", "1"), ("x-a", "2"), ("X-B", "3")]
    assert list(Headers({"X-A": "1", "X-B": ["2", "3"], "X-C": ("4",)})) == [
        ("X-A", "1"),
        ("X-B", "2"),
        ("X-B", "3"),
        ("X-C", "4"),
    ]
    assert list(Headers(collections.OrderedDict(b="1"))) == [("b", "1")]
    original = Headers(pairs)
    copy = Headers(original)
    assert list(copy) == list(original) and copy._list is not original._list
    assert list(Headers(iter([("X-A", "1")]))) == [("X-A", "1")]
    assert list(Headers()) == []
    h = Headers([("X-A", "1")])
    h.extend({"X-B": "2"}, X_C="3")
    h.extend([("X-D", "4")])
    h.extend(X_E=["5", "6"])
    assert list(h) == [
        ("X-A", "1"),
        ("X-B", "2"),
        ("X_C", "3"),
        ("X-D", "4"),
        ("X_E", "5"),
        ("X_E", "6"),
    ]


@pytest.mark.parametrize("bad", ["a\r\nb", "a\nb", "a\rb", "a\x00b"])
def test_control_characters_refused_on_every_path(bad: str) -> None:
    with pytest.raises(ValueError, match="newline or NUL"):
        Headers([("X-A", bad)])
    with pytest.raises(ValueError, match="newline or NUL"):
        Headers({"X-A": bad})
    with pytest.raises(ValueError, match="Invalid header name"):
        Headers([(bad, "v")])
    h = Headers()
    with pytest.raises(ValueError):
        h.add("X-A", bad)
    with pytest.raises(ValueError):
        h.set("X-A", bad)
    with pytest.raises(ValueError):
        h["X-A"] = bad
    with pytest.raises(ValueError):
        h.set("X-A", "v", filename=bad)
    assert list(h) == []
    with pytest.raises(ValueError, match="Invalid header name"):
        h.add("", "v")
    with pytest.raises(ValueError, match="Invalid header name"):
        h.add("X:A", "v")


def test_lookup_ignores_case() -> None:
    h = Headers([("Content-Type", "text/plain"), ("X-A", "1"), ("x-a", "2")])
    assert h["content-type"] == "text/plain"
    assert h.get("X-A") == "1"
    assert h.getlist("X-a") == ["1", "2"]
    assert "CONTENT-TYPE" in h
    assert "X-Missing" not in h
    assert 1 not in h
    assert h.get("X-Missing") is None
    assert h.get("X-Missing", "d") == "d"
    assert h.get("X-A", type=int) == 1
    with pytest.raises(BadRequestKeyError):
        h["X-Missing"]


def test_set_keeps_the_first_place_and_drops_the_rest() -> None:
    h = Headers([("A", "1"), ("X-A", "1"), ("B", "2"), ("x-a", "2"), ("C", "3"), ("X-A", "3")])
    h.set("x-A", "new")
    assert list(h) == [("A", "1"), ("x-A", "new"), ("B", "2"), ("C", "3")]
    h.set("D", "4")
    assert list(h)[-1] == ("D", "4")
    h["a"] = "one"
    assert list(h)[0] == ("a", "one")
    h.set("E", "attachment", filename="a b.txt")
    assert h["E"] == 'attachment; filename="a b.txt"'
    h.add("F", 5)
    assert h["F"] == "5"
    h[0] = ("Z", "9")
    assert list(h)[0] == ("Z", "9")


def test_set_on_last_and_only_header() -> None:
    h = Headers([("X-A", "1")])
    h.set("X-A", "2")
    assert list(h) == [("X-A", "2")]
    h = Headers([("B", "1"), ("X-A", "1")])
    h.set("x-a", "2")
    assert list(h) == [("B", "1"), ("x-a", "2")]


def test_remove_and_delete() -> None:
    pairs = [("X-A", "1"), ("B", "2"), ("x-a", "3"), ("X-A", "4"), ("C", "5")]
    h = Headers(pairs)
    same_list = h._list
    h.remove("X-A")
    assert list(h) == [("B", "2"), ("C", "5")]
    assert h._list is same_list  # edited in place: a response may share it
    h.remove("X-Missing")
    assert list(h) == [("B", "2"), ("C", "5")]
    del h["b"]
    assert list(h) == [("C", "5")]
    h = Headers(pairs)
    del h[0]
    assert list(h)[0] == ("B", "2")
    assert h.pop("x-a") == "3"
    assert "X-A" not in h
    assert h.pop("X-Missing", None) is None
    with pytest.raises(KeyError):
        h.pop("X-Missing")


def test_setlist_update_setdefault() -> None:
    h = Headers([("X-A", "1"), ("B", "2")])
    h.setlist("x-a", ["3", "4"])
    assert list(h) == [("x-a", "3"), ("B", "2"), ("x-a", "4")]
    h.setlist("X-A", [])
    assert list(h) == [("B", "2")]
    h.update({"B": "new", "C": ["1", "2"]})
    assert list(h) == [("B", "new"), ("C", "1"), ("C", "2")]
    assert h.setdefault("B", "x") == "new"
    assert h.setdefault("D", "d") == "d"
    assert h.setlistdefault("C", ["z"]) == ["1", "2"]


def test_equality_copy_and_wsgi_list() -> None:
    a = Headers([("X-A", "1"), ("B", "2")])
    b = Headers([("b", "2"), ("x-a", "1")])
    assert a == b
    wsgi = a.to_wsgi_list()
    wsgi.append(("C", "3"))
    assert "C" not in a
    c = a.copy()
    c.add("D", "4")
    assert "D" not in a
    assert str(a) == "X-A: 1\r\nB: 2\r\n\r\n"
