from __future__ import annotations

import typing as t
import uuid

import pytest

from erlen.http.exceptions import NotFound
from erlen.routing import BaseConverter
from erlen.routing import IntegerConverter
from erlen.routing import Map
from erlen.routing import PathConverter
from erlen.routing import Rule
from erlen.routing import ValidationError
from erlen.routing.rules import parse_converter_args


def adapter(*rules: Rule, **kwargs: t.Any) -> t.Any:
    return Map(list(rules), **kwargs).bind("example.com")


def test_string_default() -> None:
    a = adapter(Rule("/<name>", endpoint="x"))
    assert a.match("/hello") == ("x", {"name": "hello"})
    assert a.match("/h%C3%A9 llo") == ("x", {"name": "h%C3%A9 llo"})
    with pytest.raises(NotFound):
        a.match("/a/b")


@pytest.mark.parametrize(
    ("rule", "ok", "bad"),
    [
        ("/<string(minlength=3):s>", ["abc", "abcd"], ["ab"]),
        ("/<string(maxlength=2):s>", ["a", "ab"], ["abc"]),
        ("/<string(length=2):s>", ["ab"], ["a", "abc"]),
        ("/<string(2, 3):s>", ["ab", "abc"], ["a", "abcd"]),
    ],
)
def test_string_lengths(rule: str, ok: list[str], bad: list[str]) -> None:
    a = adapter(Rule(rule, endpoint="x"))
    for value in ok:
        assert a.match("/" + value) == ("x", {"s": value})
    for value in bad:
        with pytest.raises(NotFound):
            a.match("/" + value)


def test_int() -> None:
    a = adapter(Rule("/<int:n>", endpoint="x"))
    assert a.match("/42") == ("x", {"n": 42})
    assert a.match("/007") == ("x", {"n": 7})
    for bad in ["/-1", "/1.5", "/x", "/٣", "/ 1"]:
        with pytest.raises(NotFound):
            a.match(bad)
    assert a.build("x", {"n": 5}) == "/5"


def test_int_with_more_digits_than_int_converts_is_no_match() -> None:
    # int() refuses text over sys.get_int_max_str_digits() (4,300) digits: a
    # malformed URL must be a 404 (or the next rule), never a 500.
    digits = "9" * 5000
    a = adapter(
        Rule("/<int:n>", endpoint="x"),
        Rule("/s/<int(signed=True):n>", endpoint="s"),
        Rule("/r/<int(min=2):n>", endpoint="r"),
        Rule("/m/<int:a>-<int:b>", endpoint="m"),
        Rule("/f/<float:x>", endpoint="f"),
        Rule("/n/<int:n>", endpoint="int"),
        Rule("/n/<name>", endpoint="name"),
    )
    for path in [f"/{digits}", f"/s/-{digits}", f"/r/{digits}", f"/m/1-{digits}"]:
        with pytest.raises(NotFound):
            a.match(path)
    assert a.match(f"/n/{digits}") == ("name", {"name": digits})
    assert a.match("/m/1-2") == ("m", {"a": 1, "b": 2})
    assert a.match(f"/f/{digits}.5") == ("f", {"x": float("inf")})
    converter = IntegerConverter(Map(), min=2)
    with pytest.raises(ValidationError):
        converter.to_python(digits)


def test_int_options() -> None:
    a = adapter(
        Rule("/f/<int(fixed_digits=3):n>", endpoint="f"),
        Rule("/r/<int(min=2, max=5):n>", endpoint="r"),
        Rule("/s/<int(signed=True):n>", endpoint="s"),
    )
    assert a.match("/f/007") == ("f", {"n": 7})
    with pytest.raises(NotFound):
        a.match("/f/07")
    assert a.build("f", {"n": 7}) == "/f/007"
    assert a.match("/r/2") == ("r", {"n": 2})
    assert a.match("/r/5") == ("r", {"n": 5})
    for bad in ["/r/1", "/r/6"]:
        with pytest.raises(NotFound):
            a.match(bad)
    assert a.match("/s/-3") == ("s", {"n": -3})
    assert a.match("/s/3") == ("s", {"n": 3})
    assert a.build("s", {"n": -3}) == "/s/-3"


def test_float() -> None:
    a = adapter(
        Rule("/<float:x>", endpoint="x"),
        Rule("/s/<float(signed=True, min=-1.5):x>", endpoint="s"),
    )
    assert a.match("/1.5") == ("x", {"x": 1.5})
    for bad in ["/1", "/.5", "/-1.5", "/1e5"]:
        with pytest.raises(NotFound):
            a.match(bad)
    assert a.match("/s/-1.5") == ("s", {"x": -1.5})
    with pytest.raises(NotFound):
        a.match("/s/-1.6")
    assert a.build("x", {"x": 2}) == "/2.0"
    assert a.build("x", {"x": 1e-7}) == "/0.0000001"
    assert a.build("x", {"x": 1e20}) == "/100000000000000000000.0"
    with pytest.raises(ValueError, match="finite"):
        a.build("x", {"x": float("inf")})


def test_uuid() -> None:
    a = adapter(Rule("/<uuid:u>", endpoint="x"))
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert a.match(f"/{value}") == ("x", {"u": value})
    assert a.match(f"/{str(value).upper()}") == ("x", {"u": value})
    with pytest.raises(NotFound):
        a.match("/12345678-1234-5678-1234-56781234567")
    assert a.build("x", {"u": value}) == f"/{value}"


def test_any() -> None:
    a = adapter(Rule("/<any(about, 'help', 'a.b'):page>", endpoint="x"))
    assert a.match("/about") == ("x", {"page": "about"})
    assert a.match("/a.b") == ("x", {"page": "a.b"})
    for bad in ["/abc", "/aXb", "/aboutx"]:
        with pytest.raises(NotFound):
            a.match(bad)
    assert a.build("x", {"page": "help"}) == "/help"
    with pytest.raises(ValueError, match="'nope' is not one of"):
        a.build("x", {"page": "nope"})


def test_any_needs_items() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        Map([Rule("/<any():x>", endpoint="x")])


def test_path() -> None:
    a = adapter(Rule("/files/<path:p>", endpoint="x"), Rule("/<path:p>/edit", endpoint="e"))
    assert a.match("/files/a/b/c.txt") == ("x", {"p": "a/b/c.txt"})
    assert a.match("/x/y/edit") == ("e", {"p": "x/y"})
    with pytest.raises(NotFound):
        a.match("/files/")
    assert a.build("x", {"p": "a/b c"}) == "/files/a/b%20c"
    assert PathConverter.part_isolating is False


def test_part_isolating_inferred() -> None:
    class Slashy(BaseConverter):
        regex = "[a-z/]+"

    class Plain(BaseConverter):
        regex = "[a-z]+"

    assert Slashy.part_isolating is False
    assert Plain.part_isolating is True


class ListConverter(BaseConverter):
    """Comma separated ints."""

    regex = r"[0-9]+(?:,[0-9]+)*"

    def to_python(self, value: str) -> list[int]:
        return [int(x) for x in value.split(",")]

    def to_url(self, value: t.Any) -> str:
        return ",".join(str(x) for x in value)


class EvenConverter(BaseConverter):
    regex = "[0-9]+"
    weight = 10

    def to_python(self, value: str) -> int:
        if int(value) % 2:
            raise ValidationError()
        return int(value)

    def to_url(self, value: t.Any) -> str:
        if value % 2:
            raise ValidationError()
        return str(value)


class SlashPairConverter(BaseConverter):
    regex = "[a-z]+/[a-z]+"
    part_isolating = False


def test_custom_converters() -> None:
    url_map = Map(
        [
            Rule("/l/<list:ids>", endpoint="l"),
            Rule("/n/<even:n>", endpoint="even"),
            Rule("/n/<int:n>", endpoint="odd"),
        ],
        converters={"list": ListConverter, "even": EvenConverter},
    )
    url_map.converters["pair"] = SlashPairConverter
    url_map.add(Rule("/q/<pair:p>", endpoint="q"))
    url_map.add(Rule("/p/<pair:p>/end", endpoint="p"))
    a = url_map.bind("example.com")
    assert a.match("/l/1,2,3") == ("l", {"ids": [1, 2, 3]})
    assert a.build("l", {"ids": [4, 5]}) == "/l/4,5"
    # ValidationError from to_python means "try the next rule".
    assert a.match("/n/4") == ("even", {"n": 4})
    assert a.match("/n/5") == ("odd", {"n": 5})
    # ValidationError from to_url means "this rule cannot build it".
    assert a.build("even", {"n": 4}) == "/n/4"
    with pytest.raises(LookupError):
        a.build("even", {"n": 3})
    assert a.match("/q/ab/cd") == ("q", {"p": "ab/cd"})
    assert a.match("/p/ab/cd/end") == ("p", {"p": "ab/cd"})


def test_unknown_converter() -> None:
    with pytest.raises(ValueError, match=r"Unknown converter 'nope' .*'/<nope:x>'"):
        Map([Rule("/<nope:x>", endpoint="x")])


def test_bad_converter_arguments() -> None:
    with pytest.raises(ValueError, match="Invalid arguments for converter 'int'"):
        Map([Rule("/<int(bogus=1):x>", endpoint="x")])
    with pytest.raises(ValueError, match="length must be at least 1"):
        Map([Rule("/<string(length=0):x>", endpoint="x")])


def test_parse_converter_args() -> None:
    assert parse_converter_args("1, 2.5, 'a', b, True, None, x=-3") == (
        (1, 2.5, "a", "b", True, None),
        {"x": -3},
    )
    assert parse_converter_args("") == ((), {})
    with pytest.raises(ValueError, match="not a literal"):
        parse_converter_args("__import__('os').system('x')")
    with pytest.raises(ValueError, match="Cannot parse"):
        parse_converter_args("1,,")
    with pytest.raises(ValueError, match=r"may not use '\*'"):
        parse_converter_args("*a")
    with pytest.raises(ValueError, match=r"may not use '\*\*'"):
        parse_converter_args("**a")


def test_converter_repr() -> None:
    assert repr(PathConverter(Map())) == "<PathConverter '[^/].*?'>"
