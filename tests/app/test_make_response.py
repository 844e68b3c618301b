"""Erlen.make_response: each shape a view may return, fast paths and the rest."""

from __future__ import annotations

import collections
import typing as t

import pytest

from erlen import Erlen
from erlen.http.exceptions import NotFound
from erlen.http.headers import Headers
from erlen.http.response import Response as HTTPResponse


class Point(t.NamedTuple):
    body: str
    status: int


@pytest.mark.parametrize(
    ("rv", "status", "data", "mimetype"),
    [
        ("s", 200, b"s", "text/html"),
        (b"b", 200, b"b", "text/html"),
        (bytearray(b"ba"), 200, b"ba", "text/html"),
        ({"a": 1}, 200, b'{"a":1}\n', "application/json"),
        ([1], 200, b"[1]\n", "application/json"),
        (collections.OrderedDict(b=1, a=2), 200, b'{"a":2,"b":1}\n', "application/json"),
        (collections.UserString("u"), None, None, None),  # not a str: refused
        (iter([b"x", "y"]), 200, b"xy", "text/html"),
        (({"a": 1}, 201, {"X-A": "1"}), 201, b'{"a":1}\n', "application/json"),
        (("s", b"202 Fine"), 202, b"s", "text/html"),
        (("s", Headers([("X-A", "1")])), 200, b"s", "text/html"),
        (Point("nt", 203), 203, b"nt", "text/html"),
    ],
)
def test_shapes(app: Erlen, rv: t.Any, status: int | None, data: bytes, mimetype: str) -> None:
    with app.test_request_context():
        if status is None:
            with pytest.raises(TypeError, match="valid response"):
                app.make_response(rv)
            return
        response = app.make_response(rv)
        assert isinstance(response, app.response_class)
        assert response.status_code == status
        assert response.get_data() == data
        assert response.mimetype == mimetype
        if isinstance(rv, tuple) and len(rv) == 3:
            assert response.headers["X-A"] == "1"


def test_subclasses_of_dict_and_list_are_json(app: Erlen) -> None:
    class D(dict[str, int]):
        pass

    class L(list[int]):
        pass

    with app.test_request_context():
        assert app.make_response(D(a=1)).get_data() == b'{"a":1}\n'
        assert app.make_response(L([1])).get_data() == b"[1]\n"


def test_responses_pass_through_or_are_converted(app: Erlen) -> None:
    with app.test_request_context():
        mine = app.response_class("x")
        assert app.make_response(mine) is mine

        class Sub(app.response_class):  # type: ignore[name-defined,misc]
            pass

        sub = Sub("x")
        assert app.make_response(sub) is sub
        plain = HTTPResponse("p")
        converted = app.make_response(plain)
        assert type(converted) is app.response_class
        assert app.make_response(NotFound()).status_code == 404
