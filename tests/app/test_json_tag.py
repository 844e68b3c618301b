"""Tests for erlen.json.tag: tagged JSON round trips, escaping, registration."""

from __future__ import annotations

import json
import typing as t
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from markupsafe import Markup

from erlen.json.tag import JSONTag
from erlen.json.tag import PassDict
from erlen.json.tag import TagDict
from erlen.json.tag import TaggedJSONSerializer

TAG_KEYS = [" t", " di", " b", " m", " u", " d", " t__", " di__", " b__", "t", "di"]


def same(a: t.Any, b: t.Any) -> bool:
    """Equal, with the same types all the way down (Markup is not str, tuple not list)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def roundtrip(value: t.Any) -> t.Any:
    s = TaggedJSONSerializer()
    return s.loads(s.dumps(value))


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        7,
        1.5,
        "text",
        (1, "a", None),
        (),
        b"\x00\xffbytes",
        b"",
        Markup("<b>safe</b>"),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        datetime(2024, 2, 29, 13, 45, 7, tzinfo=UTC),
        [1, (2, 3), [b"x"]],
        {"a": (1, 2), "b": {"c": b"d"}},
        {" t": "looks like a tag"},
        {" di": {" t__": 1}},
        {" t__": [1]},
        {" b": b"x"},
        [{" u": "not a uuid"}],
    ],
    ids=repr,
)
def test_round_trip(value: t.Any) -> None:
    assert same(roundtrip(value), value)


def test_wire_format_uses_flask_keys() -> None:
    s = TaggedJSONSerializer()
    value = {
        "t": (1, 2),
        "b": b"hi",
        "m": Markup("<i>"),
        "u": uuid.UUID(int=1),
        "d": datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    assert json.loads(s.dumps(value)) == {
        "t": {" t": [1, 2]},
        "b": {" b": "aGk="},
        "m": {" m": "<i>"},
        "u": {" u": "00000000000000000000000000000001"},
        "d": {" d": "Thu, 02 Jan 2020 03:04:05 GMT"},
    }
    # Compact, so cookies stay small.
    assert " " not in s.dumps({"a": [1, 2]})


def test_dict_whose_only_key_is_a_tag_is_escaped() -> None:
    s = TaggedJSONSerializer()
    assert json.loads(s.dumps({" t": [1]})) == {" di": {" t__": [1]}}
    # Two keys: no ambiguity, no escaping.
    assert json.loads(s.dumps({" t": [1], "x": 1})) == {" t": [1], "x": 1}


def test_datetime_is_read_back_as_aware_utc() -> None:
    berlin = timezone(timedelta(hours=2))
    value = datetime(2021, 6, 1, 12, 0, 0, 999, tzinfo=berlin)
    result = roundtrip(value)
    assert result == datetime(2021, 6, 1, 10, 0, 0, tzinfo=UTC)
    assert result.tzinfo is UTC
    # A naive datetime is taken as UTC.
    assert roundtrip(datetime(2021, 6, 1, 10, 0, 0)) == datetime(2021, 6, 1, 10, tzinfo=UTC)


def test_object_with_html_becomes_markup() -> None:
    class Html:
        def __html__(self) -> str:
            return "<em>x</em>"

    result = roundtrip(Html())
    assert type(result) is Markup
    assert result == "<em>x</em>"


def test_other_types_use_the_default_json_conversions() -> None:
    s = TaggedJSONSerializer()
    from datetime import date

    assert s.loads(s.dumps({"d": date(2020, 1, 2)})) == {"d": "Thu, 02 Jan 2020 00:00:00 GMT"}
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        s.dumps({1, 2})


@pytest.mark.parametrize(
    "text",
    [
        '{" b": "***"}',
        '{" b": 5}',
        '{" u": "zz"}',
        '{" u": 5}',
        '{" d": "yesterday"}',
        '{" d": 5}',
        '{" t": 5}',
        '{" di": 5}',
        '{" di": {"a": 1, "b": 2}}',
        '{" m": []}',
        "not json",
    ],
)
def test_malformed_tagged_values_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        TaggedJSONSerializer().loads(text)


class TagFrozenset(JSONTag):
    key = " fs"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, frozenset)

    def to_json(self, value: t.Any) -> t.Any:
        return sorted(value)

    def to_python(self, value: t.Any) -> t.Any:
        return frozenset(value)


def test_register_custom_tag() -> None:
    s = TaggedJSONSerializer()
    s.register(TagFrozenset)
    assert s.loads(s.dumps({"x": frozenset({3, 1})})) == {"x": frozenset({1, 3})}
    assert s.order[-1].key == " fs"
    # Its key is now escaped in plain dicts too.
    assert s.loads(s.dumps({" fs": [1]})) == {" fs": [1]}


def test_register_duplicate_key_needs_force() -> None:
    s = TaggedJSONSerializer()

    class Other(TagFrozenset):
        key = " t"

    with pytest.raises(KeyError, match="already registered by TagTuple"):
        s.register(Other)
    s.register(Other, force=True)
    assert type(s.tags[" t"]) is Other


def test_register_at_index_takes_precedence() -> None:
    class TagUpper(JSONTag):
        key = " up"

        def check(self, value: t.Any) -> bool:
            return isinstance(value, str) and value.isupper()

        def to_json(self, value: t.Any) -> t.Any:
            return value.lower()

        def to_python(self, value: t.Any) -> t.Any:
            return value.upper()

    s = TaggedJSONSerializer()
    s.register(TagUpper, index=0)
    assert type(s.order[0]) is TagUpper
    # Plain strings are checked against custom tags once any is registered.
    assert json.loads(s.dumps(["ABC", "abc"])) == [{" up": "abc"}, "abc"]
    assert s.loads(s.dumps(["ABC", "abc"])) == ["ABC", "abc"]


def test_base_tag_is_abstract_and_pass_tags_are_not_keyed() -> None:
    s = TaggedJSONSerializer()
    base = JSONTag(s)
    with pytest.raises(NotImplementedError):
        base.check(1)
    with pytest.raises(NotImplementedError):
        base.to_json(1)
    with pytest.raises(NotImplementedError):
        base.to_python(1)
    assert "" not in s.tags
    assert isinstance(s.order[0], TagDict)
    assert isinstance(s.order[1], PassDict)


def test_untag_leaves_plain_objects() -> None:
    s = TaggedJSONSerializer()
    assert s.untag({"a": 1}) == {"a": 1}
    assert s.untag({"a": 1, " t": [1]}) == {"a": 1, " t": [1]}
    assert s.untag({" t": [1]}) == (1,)


# -- property test -------------------------------------------------------------

_datetimes = st.datetimes(
    min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.binary(),
    st.uuids(),
    st.text().map(Markup),
    _datetimes,
)
_keys = st.one_of(st.text(), st.sampled_from(TAG_KEYS))
_values = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(_keys, children, max_size=4),
    ),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(_values)
def test_any_nested_value_round_trips(value: t.Any) -> None:
    assert same(roundtrip(value), value)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=3))
def test_any_session_shaped_dict_round_trips(value: dict[str, t.Any]) -> None:
    s = TaggedJSONSerializer()
    assert same(s.loads(s.dumps(value)), value)
