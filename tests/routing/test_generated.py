"""The generated match function (``_codegen``) agrees with the trie walk.

``Matcher.walk`` is the reference implementation; ``Matcher.find`` is the
generated fast path. For any map and request, ``find`` returns what ``walk``
returns, or None exactly when ``walk`` finds nothing.
"""

from __future__ import annotations

import re
import typing as t

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from erlen.http.exceptions import MethodNotAllowed
from erlen.http.exceptions import NotFound
from erlen.routing import BaseConverter
from erlen.routing import Map
from erlen.routing import PathConverter
from erlen.routing import RequestRedirect
from erlen.routing import Rule
from erlen.routing import ValidationError
from erlen.routing import WebsocketMismatch
from erlen.routing._codegen import _FANOUT
from erlen.routing._codegen import _MAX_INDENT
from erlen.routing.exceptions import NoMatch
from erlen.routing.matcher import Matcher
from erlen.routing.matcher import SlashRequired


class Even(BaseConverter):
    """Matches digits, but only even numbers convert (others backtrack)."""

    regex = "[0-9]+"
    weight = 10  # tried before int

    def to_python(self, value: str) -> int:
        if value[-1] in "13579":  # not int(value) % 2: "9" * 5000 is odd
            raise ValidationError()
        return int(value)


class NoDots(PathConverter):
    """A path converter whose to_python refuses dots (the walk moves on)."""

    def to_python(self, value: str) -> str:
        if "." in value:
            raise ValidationError()
        return value


CONVERTERS = {"even": Even, "nodots": NoDots}


def outcome(matcher: Matcher, domain: str, path: str, method: str, websocket: bool) -> t.Any:
    """What ``walk`` says: the rule and values, a slash redirect, or no match."""
    try:
        return matcher.walk(domain, path, method, websocket)
    except SlashRequired:
        return "slash"
    except NoMatch:
        return None


def fast(matcher: Matcher, domain: str, path: str, method: str, websocket: bool) -> t.Any:
    """What the generated code says (False: "ask walk", which must redirect)."""
    found = (matcher.find or matcher.compile())(domain, path, method, websocket)
    return "slash" if found is False else found


# Pieces of rule segments; {} is replaced by a number so names stay unique.
SEGMENTS = [
    "a",
    "b",
    "1",
    "",
    "<int:i{}>",
    "<n{}>",
    "<even:e{}>",
    "<int(min=3):m{}>",
    "<string(length=2):l{}>",
    "<string(minlength=0):z{}>",
    "f-<int:f{}>.txt",
    "<any(a, b):c{}>",
    "<int:x{0}>-<y{0}>",
    "<uuid:u{}>",
    "<float:g{}>",
]
TAILS = ["<path:p{}>", "<path:q{}>/end", "x/<path:r{}>/", "<nodots:d{}>", "<path:o{}>/"]
PATH_SEGMENTS = ["a", "b", "1", "2", "4", "22", "", "f-3.txt", "x", "7-z", "1.5", "²", "end", "a.b"]
METHODS = [None, ["GET"], ["POST"], ["GET", "PUT"]]

rule_strategy = st.builds(
    lambda segs, tail, methods, strict, websocket: (
        "/"
        + "/".join(
            [s.format(f"{k}") for k, s in enumerate(segs)]
            + ([tail.format("t")] if tail is not None else [])
        ),
        methods,
        strict,
        websocket,
    ),
    st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4),
    st.none() | st.sampled_from(TAILS),
    st.sampled_from(METHODS),
    st.booleans(),
    st.sampled_from([False, False, False, True]),
)


def make_map(specs: list[tuple[str, t.Any, bool, bool]], **kwargs: t.Any) -> Map:
    rules = []
    for k, (path, methods, strict, websocket) in enumerate(specs):
        if websocket:
            methods = None
        rules.append(
            Rule(
                path,
                endpoint=f"e{k}",
                methods=methods,
                strict_slashes=strict,
                websocket=websocket,
            )
        )
    return Map(rules, converters=CONVERTERS, **kwargs)


def render(rule: str, data: st.DataObject) -> str:
    """A path for ``rule`` with each variable replaced by some segment text."""
    path = re.sub(r"<[^>]+>", lambda m: data.draw(st.sampled_from(PATH_SEGMENTS)), rule)
    if data.draw(st.booleans()):
        path = path[:-1] if path.endswith("/") and path != "/" else path + "/"
    return path


@settings(max_examples=200, deadline=None)
@given(st.lists(rule_strategy, min_size=1, max_size=12), st.data())
def test_generated_agrees_with_walk(
    specs: list[tuple[str, t.Any, bool, bool]], data: st.DataObject
) -> None:
    url_map = make_map(specs)
    url_map.update()
    matcher = url_map._matcher
    assert matcher is not None
    for _ in range(10):
        if data.draw(st.booleans()):
            path = render(data.draw(st.sampled_from(specs))[0], data)
        else:
            segments = data.draw(st.lists(st.sampled_from(PATH_SEGMENTS), min_size=1, max_size=5))
            path = "/" + "/".join(segments)
        method = data.draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
        websocket = data.draw(st.booleans())
        expected = outcome(matcher, "", path, method, websocket)
        assert fast(matcher, "", path, method, websocket) == expected, (path, method)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(rule_strategy, min_size=_FANOUT + 1, max_size=_FANOUT + 8),
    st.lists(st.lists(st.sampled_from(PATH_SEGMENTS), min_size=1, max_size=5), max_size=10),
)
def test_wide_nodes_agree_with_walk(
    specs: list[tuple[str, t.Any, bool, bool]], paths: list[list[str]]
) -> None:
    # Give every rule its own first segment, so the root dispatches by dict.
    specs = [(f"/w{k}{path}", *rest) for k, (path, *rest) in enumerate(specs)]
    url_map = make_map(specs)
    url_map.update()
    matcher = url_map._matcher
    assert matcher is not None
    for k in range(len(specs)):
        for segments in paths:
            path = f"/w{k}/" + "/".join(segments)
            assert fast(matcher, "", path, "GET", False) == outcome(matcher, "", path, "GET", False)


def test_validation_error_backtracks_to_sibling() -> None:
    url_map = Map(
        [Rule("/n/<even:x>/a", endpoint="even"), Rule("/n/<int:y>/a", endpoint="int")],
        converters=CONVERTERS,
    )
    adapter = url_map.bind("example.com")
    assert adapter.match("/n/4/a") == ("even", {"x": 4})
    assert adapter.match("/n/3/a") == ("int", {"y": 3})
    assert "except ValidationError" in url_map._matcher.source()  # type: ignore[union-attr]


def test_backtrack_from_dynamic_to_sibling_subtree() -> None:
    adapter = Map(
        [
            Rule("/a/<int:n>/x", endpoint="int_x"),
            Rule("/a/<name>/y", endpoint="name_y"),
            Rule("/a/b/z", endpoint="static"),
        ]
    ).bind("example.com")
    assert adapter.match("/a/1/x") == ("int_x", {"n": 1})
    # <int:n> matches "1" but has no "y" below it: the walk moves on to <name>.
    assert adapter.match("/a/1/y") == ("name_y", {"name": "1"})
    assert adapter.match("/a/b/y") == ("name_y", {"name": "b"})
    assert adapter.match("/a/b/z") == ("static", {})


def test_int_segments_are_ascii_digits_only() -> None:
    adapter = Map([Rule("/<int:n>", endpoint="int"), Rule("/<s>", endpoint="str")]).bind("x")
    assert adapter.match("/12") == ("int", {"n": 12})
    for text in ["²", "١٢", "1_0", "+1", " 1"]:
        assert adapter.match("/" + text) == ("str", {"s": text})


def test_int_segments_too_long_to_convert_do_not_match() -> None:
    # int() refuses more than sys.get_int_max_str_digits() (4,300) digits:
    # such a segment does not match, and the search moves on to the next rule.
    digits = "9" * 5000
    url_map = Map(
        [
            Rule("/u/<int:id>", endpoint="u"),
            Rule("/u/<int:id>/<name>", endpoint="named"),
            Rule("/v/<int(signed=True):id>-<int:n>", endpoint="v"),
            Rule("/v/<int:x>-<y>", endpoint="v2"),
            Rule("/w/<int(max=9):id>", endpoint="w"),
            Rule("/w/<even:e>", endpoint="even"),
            Rule("/d/<int:id>/<path:rest>", endpoint="d"),
            Rule("/d/<path:rest>", endpoint="d2"),
            Rule("/s/<int:id>/x", endpoint="s"),
            Rule("/s/<s>/<int:id>", endpoint="s2"),
            Rule("/s/<s>/<t>", endpoint="s3"),
        ],
        converters=CONVERTERS,
    )
    url_map.update()
    matcher = url_map._matcher
    assert matcher is not None
    for path, endpoint in [
        (f"/u/{digits}", None),
        (f"/u/{digits}/x", None),
        (f"/v/-1-{digits}", None),
        (f"/v/{digits}-1", None),
        ("/v/-1-2", "v"),
        (f"/w/{digits}", None),
        (f"/d/{digits}/a/b", "d2"),
        (f"/s/{digits}/x", "s3"),
        (f"/s/x/{digits}", "s3"),
        ("/s/1/x", "s"),
    ]:
        expected = outcome(matcher, "", path, "GET", False)
        assert (expected and expected[0].endpoint) == endpoint, path[:20]
        assert fast(matcher, "", path, "GET", False) == expected, path[:20]


def test_string_lengths() -> None:
    adapter = Map(
        [
            Rule("/l/<string(length=2):c>", endpoint="exact"),
            Rule("/l/<string(minlength=3, maxlength=4):c>", endpoint="range"),
            Rule("/z/<string(minlength=0):c>", endpoint="empty_ok"),
        ]
    ).bind("x")
    assert adapter.match("/l/ab") == ("exact", {"c": "ab"})
    assert adapter.match("/l/abc") == ("range", {"c": "abc"})
    assert adapter.match("/l/abcd") == ("range", {"c": "abcd"})
    with pytest.raises(NotFound):
        adapter.match("/l/abcde")
    with pytest.raises(NotFound):
        adapter.match("/l/a")
    assert adapter.match("/z/") == ("empty_ok", {"c": ""})


def test_rules_added_after_first_match_regenerate() -> None:
    url_map = Map([Rule("/u/<int:id>", endpoint="u")])
    adapter = url_map.bind("example.com")
    assert adapter.match("/u/1") == ("u", {"id": 1})
    matcher = url_map._matcher
    assert matcher is not None and matcher.find is not None
    url_map.add(Rule("/u/me", endpoint="me"))
    assert matcher.find is None
    url_map.add(Rule("/u/<int:id>/posts", endpoint="posts", methods=["POST"]))
    assert adapter.match("/u/me") == ("me", {})
    assert adapter.match("/u/2/posts", method="POST") == ("posts", {"id": 2})
    with pytest.raises(MethodNotAllowed) as info:
        adapter.match("/u/2/posts")
    assert info.value.valid_methods == ["POST"]


def test_405_is_the_union_over_dynamic_and_static_rules() -> None:
    adapter = Map(
        [
            Rule("/i/<int:n>", endpoint="put", methods=["PUT"]),
            Rule("/i/<name>", endpoint="delete", methods=["DELETE"]),
            Rule("/i/7", endpoint="post", methods=["POST"]),
        ]
    ).bind("example.com")
    with pytest.raises(MethodNotAllowed) as info:
        adapter.match("/i/7", method="GET")
    assert info.value.valid_methods == ["DELETE", "POST", "PUT"]
    assert adapter.match("/i/8", method="DELETE") == ("delete", {"name": "8"})


def test_slash_redirects_and_merged_slashes() -> None:
    adapter = Map(
        [
            Rule("/d/<int:n>/", endpoint="dir"),
            Rule("/f/<int:n>", endpoint="file"),
            Rule("/p/<path:rest>/", endpoint="path_dir"),
        ]
    ).bind("example.com")
    with pytest.raises(RequestRedirect) as info:
        adapter.match("/d/1")
    assert info.value.new_url == "http://example.com/d/1/"
    with pytest.raises(RequestRedirect) as info:
        adapter.match("/d//1/")
    assert info.value.new_url == "http://example.com/d/1/"
    with pytest.raises(RequestRedirect) as info:
        adapter.match("/p/a/b")
    assert info.value.new_url == "http://example.com/p/a/b/"
    with pytest.raises(NotFound):
        adapter.match("/f/1/")
    loose = Map([Rule("/f/<int:n>", endpoint="file")], strict_slashes=False).bind("x")
    assert loose.match("/f/1/") == ("file", {"n": 1})


def test_subdomain_variables_are_matched_by_regex() -> None:
    url_map = Map(
        [
            Rule("/<int:n>", subdomain="<user>", endpoint="user"),
            Rule("/<int:n>", subdomain="static", endpoint="static"),
        ]
    )
    assert url_map.bind("example.com", subdomain="bob").match("/1") == (
        "user",
        {"user": "bob", "n": 1},
    )
    assert url_map.bind("example.com", subdomain="static").match("/1") == ("static", {"n": 1})
    # A subdomain is not a path segment: the converter regex still applies.
    with pytest.raises(NotFound):
        url_map.bind("example.com", subdomain="a/b").match("/1")


def test_host_matching_with_many_hosts() -> None:
    rules = [Rule("/<int:n>", host=f"h{k}.org", endpoint=f"h{k}") for k in range(_FANOUT + 2)]
    rules.append(Rule("/<int:n>", host="<name>.net", endpoint="net"))
    url_map = Map(rules, host_matching=True)
    assert url_map.bind("h3.org").match("/5") == ("h3", {"n": 5})
    assert url_map.bind("x.net").match("/5") == ("net", {"name": "x", "n": 5})
    with pytest.raises(NotFound):
        url_map.bind("h3.net.org").match("/5")


def test_websocket_rules() -> None:
    url_map = Map(
        [Rule("/ws/<int:n>", endpoint="ws", websocket=True), Rule("/h/<int:n>", endpoint="h")]
    )
    assert url_map.bind("example.com", url_scheme="ws").match("/ws/1") == ("ws", {"n": 1})
    with pytest.raises(WebsocketMismatch):
        url_map.bind("example.com").match("/ws/1")
    with pytest.raises(WebsocketMismatch):
        url_map.bind("example.com", url_scheme="wss").match("/h/1")


def test_deep_rules_continue_in_another_function() -> None:
    depth = _MAX_INDENT * 2
    rule = "/" + "/".join(f"<int:v{k}>" for k in range(depth))
    adapter = Map([Rule(rule, endpoint="deep")]).bind("x")
    path = "/" + "/".join(str(k) for k in range(depth))
    assert adapter.match(path) == ("deep", {f"v{k}": k for k in range(depth)})
    with pytest.raises(NotFound):
        adapter.match(path + "/1")


def test_equal_subtrees_share_generated_code() -> None:
    url_map = Map([Rule(f"/r{k}/<int:id>", endpoint=f"r{k}") for k in range(100)])
    adapter = url_map.bind("x")
    assert adapter.match("/r99/7") == ("r99", {"id": 7})
    matcher = url_map._matcher
    assert matcher is not None
    # One entry function and one for all hundred /rN/<int:id> subtrees.
    assert len(matcher._generator._factories) == 2
    source = matcher.source()
    assert source.count("def _unit(") == 101
    assert "isdigit()" in source


def test_defaults_merge_into_values() -> None:
    adapter = Map(
        [Rule("/p/<int:n>", defaults={"kind": "x", "n": 0}, endpoint="p")],
        redirect_defaults=False,
    ).bind("x")
    assert adapter.match("/p/3") == ("p", {"kind": "x", "n": 3})


def test_map_find_is_the_generated_function() -> None:
    url_map = Map(
        [
            Rule("/u/<int:id>", endpoint="u"),
            Rule("/d/", endpoint="d"),
            Rule("/p/", defaults={"page": 1}, endpoint="p"),
            Rule("/p/<int:page>", endpoint="p"),
        ]
    )
    assert url_map.find("", "/u/1", "GET", False) == (url_map._rules[0], {"id": 1})
    # After the first call the attribute is the generated function itself.
    assert url_map.find is url_map._matcher.find  # type: ignore[union-attr]
    assert url_map.find("", "/u/x", "GET", False) is None
    assert url_map.find("", "/d", "GET", False) is False  # a slash redirect
    rule, values = url_map.find("", "/p/", "GET", False)  # type: ignore[misc]
    assert values == {"page": 1}
    # Rules of an endpoint with defaults may redirect: MapAdapter.match decides.
    assert rule.may_redirect
    assert url_map.find("", "/p/1", "GET", False)[0].may_redirect  # type: ignore[index]
    with pytest.raises(RequestRedirect):
        url_map.bind("x").match("/p/1")


def test_adding_a_rule_resets_map_find() -> None:
    url_map = Map([Rule("/a/<int:n>", endpoint="a")])
    assert url_map.find("", "/a/1", "GET", False)
    url_map.add(Rule("/a/", endpoint="a", defaults={"n": 0}))
    assert url_map.find == url_map._find_first
    found = url_map.find("", "/a/1", "GET", False)
    # The rule now redirects /a/0 to /a/: the flag is read at match time.
    assert found and found[0].may_redirect
    assert url_map.find("", "/a/", "GET", False) == (url_map._rules[1], {"n": 0})


def test_path_without_leading_slash_is_left_to_the_adapter() -> None:
    url_map = Map([Rule("/", endpoint="index"), Rule("/u/<int:id>", endpoint="u")])
    assert url_map.find("", "u/1", "GET", False) is None
    assert url_map.find("", "", "GET", False) is None
    adapter = url_map.bind("x")
    assert adapter.match("u/1") == ("u", {"id": 1})
    assert adapter.match("") == ("index", {})


def test_source_lists_the_constants() -> None:
    url_map = Map([Rule("/user/<int:id>", endpoint="user")])
    url_map.update()
    source = url_map._matcher.source()  # type: ignore[union-attr]
    assert "# k0 = " in source
    assert "'user'" in source  # the constant's repr, next to its name
    assert "int(s2)" in source


def test_update_generates_the_code() -> None:
    url_map = Map([Rule("/u/<int:id>", endpoint="u")])
    url_map.update()
    matcher = url_map._matcher
    assert matcher is not None and matcher.find is not None
    assert url_map.find is matcher.find


def test_regenerating_keeps_only_the_current_sources() -> None:
    url_map = Map([Rule(f"/r{k}/<int:id>", endpoint=f"r{k}") for k in range(10)])
    adapter = url_map.bind("x")
    for k in range(10, 30):
        url_map.add(Rule(f"/s{k}", endpoint=f"s{k}"))
        assert adapter.match(f"/r{k % 10}/1") == (f"r{k % 10}", {"id": 1})
    generator = url_map._matcher._generator  # type: ignore[union-attr]
    # The entry and the /rN/<int:id> subtrees; no /sN leaf was matched yet.
    assert len(generator._factories) == 2
    url_map._matcher.source()  # type: ignore[union-attr]
    assert len(generator._factories) == 3


def test_children_behind_a_dict_are_generated_at_their_first_match() -> None:
    url_map = Map([Rule(f"/r{k}/<int:id>", endpoint=f"r{k}") for k in range(50)])
    url_map.update()
    generator = url_map._matcher._generator  # type: ignore[union-attr]
    assert len(generator.units) == 1  # the entry only
    adapter = url_map.bind("x")
    assert adapter.match("/r7/1") == ("r7", {"id": 1})
    assert adapter.match("/r7/2") == ("r7", {"id": 2})
    assert len(generator.units) == 2
    assert adapter.match("/r8/1") == ("r8", {"id": 1})
    assert len(generator.units) == 3
    assert url_map._matcher.source().count("def _unit(") == 51  # type: ignore[union-attr]
    assert adapter.match("/r9/3") == ("r9", {"id": 3})


def test_tails_after_a_segment_with_several_variables() -> None:
    adapter = Map([Rule("/m/<int:a>-<name>/<path:rest>/end", endpoint="m")]).bind("x")
    assert adapter.match("/m/1-x/a/b/end") == ("m", {"a": 1, "name": "x", "rest": "a/b"})


def test_path_tails() -> None:
    url_map = Map(
        [
            Rule("/<path:p>", endpoint="any"),
            Rule("/s/<nodots:p>", endpoint="no_dots"),
            Rule("/d/<path:p>/", endpoint="dir"),
            Rule("/l/<path:p>", endpoint="loose", strict_slashes=False),
        ],
        converters=CONVERTERS,
    )
    adapter = url_map.bind("x")
    assert adapter.match("/a//b") == ("any", {"p": "a//b"})
    assert adapter.match("/s/a/b") == ("no_dots", {"p": "a/b"})
    assert adapter.match("/s/a.b") == ("any", {"p": "s/a.b"})
    assert adapter.match("/d/a/") == ("dir", {"p": "a"})
    # The path regex takes the trailing slash itself (as before the generated code).
    assert adapter.match("/l/a/") == ("loose", {"p": "a/"})
    with pytest.raises(RequestRedirect):
        adapter.match("/d/a")
    with pytest.raises(NotFound):
        adapter.match("/")
