"""Property: for random values of each converter, build then match round-trips."""

from __future__ import annotations

import typing as t
import uuid
from urllib.parse import unquote

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from erlen.routing import Map
from erlen.routing import Rule

url_map = Map(
    [
        Rule("/s/<name>", endpoint="string"),
        Rule("/i/<int:n>", endpoint="int"),
        Rule("/is/<int(signed=True):n>", endpoint="signed"),
        Rule("/fd/<int(fixed_digits=4):n>", endpoint="fixed"),
        Rule("/f/<float(signed=True):x>", endpoint="float"),
        Rule("/u/<uuid:u>", endpoint="uuid"),
        Rule("/a/<any(red, green, 'light blue'):c>", endpoint="any"),
        Rule("/p/<path:p>", endpoint="path"),
        Rule("/m/<int:a>-<name>/<path:rest>/end", endpoint="mixed"),
    ]
)
adapter = url_map.bind("example.com")

# Segment text: anything but "/" (a "/" in a string value cannot round-trip
# once the path is decoded, in any router).
segment = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1
).filter(lambda s: s not in (".", ".."))
path_value = st.lists(segment, min_size=1, max_size=4).map("/".join)

cases: st.SearchStrategy[tuple[str, dict[str, t.Any]]] = st.one_of(
    st.tuples(st.just("string"), st.fixed_dictionaries({"name": segment})),
    st.tuples(st.just("int"), st.fixed_dictionaries({"n": st.integers(min_value=0)})),
    st.tuples(st.just("signed"), st.fixed_dictionaries({"n": st.integers()})),
    st.tuples(st.just("fixed"), st.fixed_dictionaries({"n": st.integers(0, 9999)})),
    st.tuples(
        st.just("float"),
        st.fixed_dictionaries({"x": st.floats(allow_nan=False, allow_infinity=False)}),
    ),
    st.tuples(st.just("uuid"), st.fixed_dictionaries({"u": st.uuids()})),
    st.tuples(st.just("any"), st.fixed_dictionaries({"c": st.sampled_from(["red", "light blue"])})),
    st.tuples(st.just("path"), st.fixed_dictionaries({"p": path_value})),
    st.tuples(
        st.just("mixed"),
        st.fixed_dictionaries({"a": st.integers(min_value=0), "name": segment, "rest": path_value}),
    ),
)


@settings(max_examples=200, deadline=None)
@given(cases)
def test_build_then_match(case: tuple[str, dict[str, t.Any]]) -> None:
    endpoint, values = case
    url = adapter.build(endpoint, values)
    assert url.startswith("/")
    # Servers hand the app a percent-decoded path.
    matched_endpoint, matched = adapter.match(unquote(url))
    assert matched_endpoint == endpoint
    if endpoint == "float" and values["x"] == 0:
        assert matched["x"] == 0
    else:
        assert matched == values
    if endpoint == "uuid":
        assert isinstance(matched["u"], uuid.UUID)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1), st.text(), max_size=4))
def test_query_args_round_trip(extra: dict[str, str]) -> None:
    from urllib.parse import parse_qsl
    from urllib.parse import urlsplit

    url = adapter.build("int", {"n": 1, **{f"q{k}": v for k, v in extra.items()}})
    parts = urlsplit(url)
    assert parts.path == "/i/1"
    assert dict(parse_qsl(parts.query, keep_blank_values=True)) == {
        f"q{k}": v for k, v in extra.items()
    }
