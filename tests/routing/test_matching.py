from __future__ import annotations

import typing as t

import pytest

from erlen.http.exceptions import MethodNotAllowed
from erlen.http.exceptions import NotFound
from erlen.routing import Map
from erlen.routing import MapAdapter
from erlen.routing import RequestRedirect
from erlen.routing import Rule
from erlen.routing import WebsocketMismatch


def bind(*rules: Rule, **kwargs: t.Any) -> MapAdapter:
    return Map(list(rules), **kwargs).bind("example.com")


def redirect_of(adapter: MapAdapter, path: str, **kwargs: t.Any) -> str:
    with pytest.raises(RequestRedirect) as info:
        adapter.match(path, **kwargs)
    assert info.value.code == 308
    return info.value.new_url


def test_static_and_dynamic() -> None:
    a = bind(Rule("/", endpoint="index"), Rule("/u/<int:id>", endpoint="user"))
    assert a.match("/") == ("index", {})
    assert a.match("") == ("index", {})
    assert a.match("/u/1") == ("user", {"id": 1})
    rule, values = a.match("/u/2", return_rule=True)
    assert isinstance(rule, Rule)
    assert rule.endpoint == "user"
    assert values == {"id": 2}
    a2 = Map([Rule("/x", endpoint="x")]).bind("example.com", path_info="/x")
    assert a2.match() == ("x", {})


def test_not_found() -> None:
    a = bind(Rule("/a", endpoint="a"), Rule("/u/<int:id>", endpoint="u"))
    for path in ["/b", "/a/b", "/u/x", "/u", "/u/1/2"]:
        with pytest.raises(NotFound):
            a.match(path)


def test_methods_and_405() -> None:
    a = bind(
        Rule("/a", endpoint="a_get", methods=["GET"]),
        Rule("/a", endpoint="a_post", methods=["POST"]),
        Rule("/u/<int:id>", endpoint="u_put", methods=["PUT"]),
        Rule("/u/<name>", endpoint="u_del", methods=["DELETE"]),
        Rule("/any", endpoint="any"),
    )
    assert a.match("/a") == ("a_get", {})
    assert a.match("/a", method="HEAD") == ("a_get", {})
    assert a.match("/a", method="post") == ("a_post", {})
    assert a.match("/any", method="PATCH") == ("any", {})
    with pytest.raises(MethodNotAllowed) as info:
        a.match("/a", method="PUT")
    assert info.value.valid_methods == ["GET", "HEAD", "POST"]
    assert ("Allow", "GET, HEAD, POST") in info.value.get_headers()
    # The union covers every rule whose path matched, static or dynamic.
    with pytest.raises(MethodNotAllowed) as info:
        a.match("/u/1", method="GET")
    assert info.value.valid_methods == ["DELETE", "PUT"]
    assert a.match("/u/1", method="DELETE") == ("u_del", {"name": "1"})
    assert a.allowed_methods("/u/1") == ["DELETE", "PUT"]
    assert a.allowed_methods("/nope") == []


def test_405_only_when_path_matches() -> None:
    a = bind(Rule("/a", endpoint="a", methods=["POST"]))
    with pytest.raises(NotFound):
        a.match("/b", method="GET")


def test_default_method_from_bind() -> None:
    url_map = Map([Rule("/a", endpoint="a", methods=["POST"])])
    assert url_map.bind("x", default_method="POST").match("/a") == ("a", {})


def test_strict_slashes() -> None:
    a = bind(Rule("/a/", endpoint="a"), Rule("/b", endpoint="b"), Rule("/", endpoint="i"))
    assert a.match("/a/") == ("a", {})
    assert redirect_of(a, "/a") == "http://example.com/a/"
    assert redirect_of(a, "/a", query_args="x=1&y=2") == "http://example.com/a/?x=1&y=2"
    assert redirect_of(a, "/a", query_args={"q": ["1", "2"]}) == "http://example.com/a/?q=1&q=2"
    with pytest.raises(NotFound):
        a.match("/b/")


def test_strict_slashes_off() -> None:
    a = bind(
        Rule("/a/", endpoint="a"),
        Rule("/b", endpoint="b"),
        Rule("/c/<int:n>", endpoint="c"),
        strict_slashes=False,
    )
    assert a.match("/a") == ("a", {})
    assert a.match("/b/") == ("b", {})
    assert a.match("/c/1/") == ("c", {"n": 1})


def test_strict_slashes_per_rule() -> None:
    a = bind(Rule("/a/", endpoint="a", strict_slashes=False), Rule("/b/", endpoint="b"))
    assert a.match("/a") == ("a", {})
    redirect_of(a, "/b")


def test_slash_redirect_needs_method() -> None:
    a = bind(Rule("/a/", endpoint="a", methods=["POST"]))
    with pytest.raises(NotFound):
        a.match("/a", method="GET")
    assert redirect_of(a, "/a", method="POST") == "http://example.com/a/"


def test_slash_redirect_dynamic_and_path() -> None:
    a = bind(Rule("/u/<int:id>/", endpoint="u"), Rule("/f/<path:p>/", endpoint="f"))
    assert redirect_of(a, "/u/3") == "http://example.com/u/3/"
    assert redirect_of(a, "/f/a/b") == "http://example.com/f/a/b/"
    assert a.match("/f/a/b/") == ("f", {"p": "a/b"})


def test_redirect_keeps_script_name_and_scheme() -> None:
    url_map = Map([Rule("/a/", endpoint="a")])
    a = url_map.bind("example.com", script_name="/app", url_scheme="https")
    assert redirect_of(a, "/a") == "https://example.com/app/a/"
    a = url_map.bind("example.com", query_args="z=1")
    assert redirect_of(a, "/a") == "http://example.com/a/?z=1"


def test_redirect_quotes_path() -> None:
    a = bind(Rule("/<name>/", endpoint="a"))
    assert redirect_of(a, "/a b") == "http://example.com/a%20b/"


def test_merge_slashes() -> None:
    a = bind(
        Rule("/a/b", endpoint="ab"), Rule("/f/<path:p>", endpoint="f"), Rule("/c/", endpoint="c")
    )
    assert redirect_of(a, "/a//b") == "http://example.com/a/b"
    assert redirect_of(a, "//a///b") == "http://example.com/a/b"
    assert redirect_of(a, "//c") == "http://example.com/c/"
    # A path converter keeps repeated slashes as data.
    assert a.match("/f/x//y") == ("f", {"p": "x//y"})


def test_merge_slashes_off() -> None:
    a = bind(Rule("/a/b", endpoint="ab"), merge_slashes=False)
    with pytest.raises(NotFound):
        a.match("/a//b")
    a = bind(Rule("/a/b", endpoint="ab", merge_slashes=False))
    with pytest.raises(NotFound):
        a.match("/a//b")
    # A rule written with doubled slashes merges them unless told not to.
    a = bind(Rule("/x//y", endpoint="xy", merge_slashes=False), Rule("/p//q", endpoint="pq"))
    assert a.match("/x//y") == ("xy", {})
    assert a.match("/p/q") == ("pq", {})


def test_redirect_to() -> None:
    def to_user(adapter: MapAdapter, id: int) -> str:
        return f"/users/{id}"

    a = bind(
        Rule("/old/<int:id>", redirect_to="/new/<id>", endpoint="old"),
        Rule("/legacy/<int:id>", redirect_to=to_user, endpoint="legacy"),
        Rule("/out", redirect_to="https://other.org/x", endpoint="out"),
        Rule("/static", redirect_to="/target", endpoint="static"),
    )
    assert redirect_of(a, "/old/5") == "http://example.com/new/5"
    assert redirect_of(a, "/legacy/7") == "http://example.com/users/7"
    assert redirect_of(a, "/out") == "https://other.org/x"
    assert redirect_of(a, "/static") == "http://example.com/target"


def test_defaults() -> None:
    a = bind(
        Rule("/users/", defaults={"page": 1}, endpoint="users"),
        Rule("/users/page/<int:page>", endpoint="users"),
    )
    assert a.match("/users/") == ("users", {"page": 1})
    assert a.match("/users/page/2") == ("users", {"page": 2})
    assert redirect_of(a, "/users/page/1") == "http://example.com/users/"
    assert a.build("users", {"page": 1}) == "/users/"
    assert a.build("users", {"page": 3}) == "/users/page/3"
    assert a.build("users") == "/users/"


def test_defaults_returned_fresh() -> None:
    a = bind(Rule("/", defaults={"page": 1}, endpoint="i"))
    _, values = a.match("/")
    values["page"] = 2
    assert a.match("/") == ("i", {"page": 1})


def test_redirect_defaults_off() -> None:
    a = bind(
        Rule("/users/", defaults={"page": 1}, endpoint="users"),
        Rule("/users/page/<int:page>", endpoint="users"),
        redirect_defaults=False,
    )
    assert a.match("/users/page/1") == ("users", {"page": 1})


def test_alias() -> None:
    a = bind(
        Rule("/canonical/<int:id>", endpoint="x"),
        Rule("/alias/<int:id>", endpoint="x", alias=True),
    )
    assert redirect_of(a, "/alias/3") == "http://example.com/canonical/3"
    assert redirect_of(a, "/alias/3", query_args="a=b") == "http://example.com/canonical/3?a=b"
    assert a.match("/canonical/3") == ("x", {"id": 3})


def test_build_only() -> None:
    a = bind(Rule("/b", endpoint="b", build_only=True))
    with pytest.raises(NotFound):
        a.match("/b")
    assert a.build("b") == "/b"


def test_subdomains() -> None:
    url_map = Map(
        [
            Rule("/", endpoint="index"),
            Rule("/", subdomain="api", endpoint="api"),
            Rule("/", subdomain="<user>", endpoint="user"),
            Rule("/p/<int:n>", subdomain="<user>", endpoint="user_page"),
        ]
    )
    assert url_map.bind("example.com").match("/") == ("index", {})
    assert url_map.bind("example.com", subdomain="api").match("/") == ("api", {})
    assert url_map.bind("example.com", subdomain="bob").match("/") == ("user", {"user": "bob"})
    a = url_map.bind("example.com", subdomain="bob")
    assert a.match("/p/2") == ("user_page", {"user": "bob", "n": 2})
    assert a.build("user", {"user": "bob"}) == "/"
    assert a.build("user", {"user": "amy"}) == "http://amy.example.com/"
    assert a.build("index") == "http://example.com/"
    assert a.build("api") == "http://api.example.com/"


def test_default_subdomain() -> None:
    url_map = Map(
        [Rule("/", endpoint="www"), Rule("/", subdomain="", endpoint="bare")],
        default_subdomain="www",
    )
    assert url_map.bind("example.com").match("/") == ("www", {})
    assert url_map.bind("example.com", subdomain="").match("/") == ("bare", {})


def test_host_matching() -> None:
    url_map = Map(
        [
            Rule("/", host="example.com", endpoint="main"),
            Rule("/", host="<user>.example.org", endpoint="user"),
            Rule("/<int:n>", host="<user>.example.org", endpoint="user_n"),
        ],
        host_matching=True,
    )
    assert url_map.bind("example.com").match("/") == ("main", {})
    a = url_map.bind("Bob.example.org")
    assert a.match("/") == ("user", {"user": "bob"})
    assert a.match("/3") == ("user_n", {"user": "bob", "n": 3})
    with pytest.raises(NotFound):
        url_map.bind("other.net").match("/")
    assert a.build("user", {"user": "bob"}) == "/"
    assert a.build("main") == "http://example.com/"
    with pytest.raises(RuntimeError, match="host matching"):
        url_map.bind("example.com", subdomain="x")


def test_websocket() -> None:
    url_map = Map([Rule("/ws", endpoint="ws", websocket=True), Rule("/http", endpoint="http")])
    ws = url_map.bind("example.com", url_scheme="wss")
    http = url_map.bind("example.com")
    assert ws.match("/ws") == ("ws", {})
    with pytest.raises(WebsocketMismatch):
        http.match("/ws")
    with pytest.raises(WebsocketMismatch):
        ws.match("/http")
    assert http.match("/ws", websocket=True) == ("ws", {})
    assert http.build("ws") == "ws://example.com/ws"
    assert http.build("ws", url_scheme="https") == "wss://example.com/ws"
    assert ws.build("http", force_external=True) == "https://example.com/http"


def test_add_after_match() -> None:
    url_map = Map([Rule("/a", endpoint="a")])
    a = url_map.bind("example.com")
    assert a.match("/a") == ("a", {})
    url_map.add(Rule("/b/<int:n>", endpoint="b"))
    url_map.add(Rule("/c", endpoint="c"))
    assert a.match("/b/1") == ("b", {"n": 1})
    assert a.match("/c") == ("c", {})


def test_dispatch() -> None:
    a = bind(Rule("/a", endpoint="a"), Rule("/s/", endpoint="s"))
    assert a.dispatch(lambda e, v: (e, v), "/a") == ("a", {})
    assert isinstance(a.dispatch(lambda e, v: None, "/s"), RequestRedirect)
    assert isinstance(a.dispatch(lambda e, v: None, "/x", catch_http_exceptions=True), NotFound)
    with pytest.raises(NotFound):
        a.dispatch(lambda e, v: None, "/x")


def test_request_redirect_headers() -> None:
    exc = RequestRedirect("http://example.com/a/")
    assert ("Location", "http://example.com/a/") in exc.get_headers()
    assert exc.code == 308


def test_bind_is_cheap_and_normalises() -> None:
    url_map = Map()
    a = url_map.bind("Example.COM", script_name="/app")
    assert a.server_name == "example.com"
    assert a.script_name == "/app/"
    assert a.subdomain == ""
    assert not hasattr(a, "__dict__")


# -- priority ---------------------------------------------------------------


def test_static_beats_dynamic() -> None:
    a = bind(Rule("/u/<name>", endpoint="dyn"), Rule("/u/me", endpoint="me"))
    assert a.match("/u/me") == ("me", {})
    assert a.match("/u/you") == ("dyn", {"name": "you"})


def test_static_segment_beats_converter_with_backtracking() -> None:
    a = bind(Rule("/a/<x>/c", endpoint="dyn"), Rule("/a/b/d", endpoint="static"))
    assert a.match("/a/b/d") == ("static", {})
    # The static "b" branch has no "c"; the walk backtracks to <x>.
    assert a.match("/a/b/c") == ("dyn", {"x": "b"})


@pytest.mark.parametrize("reverse", [False, True])
def test_converter_weight_order(reverse: bool) -> None:
    rules = [
        Rule("/<path:p>", endpoint="path"),
        Rule("/<name>", endpoint="string"),
        Rule("/<int:n>", endpoint="int"),
    ]
    if reverse:
        rules.reverse()
    a = bind(*rules)
    assert a.match("/12") == ("int", {"n": 12})
    assert a.match("/ab") == ("string", {"name": "ab"})
    assert a.match("/ab/cd") == ("path", {"p": "ab/cd"})


@pytest.mark.parametrize("reverse", [False, True])
def test_more_static_text_first(reverse: bool) -> None:
    rules = [Rule("/<name>", endpoint="plain"), Rule("/file-<name>", endpoint="prefixed")]
    if reverse:
        rules.reverse()
    a = bind(*rules)
    assert a.match("/file-x") == ("prefixed", {"name": "x"})
    assert a.match("/x") == ("plain", {"name": "x"})


@pytest.mark.parametrize("reverse", [False, True])
def test_deeper_before_path_tail(reverse: bool) -> None:
    rules = [Rule("/<path:p>", endpoint="catchall"), Rule("/static/<path:f>", endpoint="static")]
    if reverse:
        rules.reverse()
    a = bind(*rules)
    assert a.match("/static/a/b") == ("static", {"f": "a/b"})
    assert a.match("/other/a") == ("catchall", {"p": "other/a"})


def test_unrelated_rule_does_not_change_winner() -> None:
    base = [Rule("/x/<name>", endpoint="s"), Rule("/x/<int:n>", endpoint="i")]
    a = bind(*[r.empty() for r in base])
    before = [a.match(p) for p in ["/x/1", "/x/a"]]
    url_map = Map([Rule("/y/<int:q>", endpoint="other"), *[r.empty() for r in base]])
    url_map.add(Rule("/x/<uuid:u>/z", endpoint="other2"))
    b = url_map.bind("example.com")
    assert [b.match(p) for p in ["/x/1", "/x/a"]] == before
    assert before == [("i", {"n": 1}), ("s", {"name": "a"})]


def test_same_path_insertion_order() -> None:
    a = bind(Rule("/a", endpoint="first"), Rule("/a", endpoint="second"))
    assert a.match("/a") == ("first", {})


def test_bind_to_host() -> None:
    url_map = Map([Rule("/", endpoint="main"), Rule("/", subdomain="<user>", endpoint="user")])
    a = url_map.bind_to_host("Bob.Example.com", server_name="example.com")
    assert a.subdomain == "bob"
    assert a.match("/") == ("user", {"user": "bob"})
    a = url_map.bind_to_host("example.com:443", server_name="example.com:443", url_scheme="https")
    assert a.server_name == "example.com"
    assert a.match("/") == ("main", {})
    a = url_map.bind_to_host("a.b.example.com:80", server_name="example.com:80")
    assert a.subdomain == "a.b"
    assert url_map.bind_to_host("other.org", server_name="example.com").subdomain == "<invalid>"
    a = url_map.bind_to_host("localhost:5000")
    assert (a.server_name, a.subdomain) == ("localhost:5000", "")
    assert url_map.bind_to_host("x.org", subdomain="api").subdomain == "api"
    hosts = Map([Rule("/", host="x.org", endpoint="x")], host_matching=True)
    assert hosts.bind_to_host("X.org").match("/") == ("x", {})


def test_tail_validation_error_falls_through() -> None:
    from erlen.routing import PathConverter
    from erlen.routing import ValidationError

    class NoDots(PathConverter):
        def to_python(self, value: str) -> str:
            if "." in value:
                raise ValidationError()
            return value

    url_map = Map(
        [Rule("/<nodots:p>", endpoint="clean"), Rule("/<path:p>", endpoint="any")],
        converters={"nodots": NoDots},
    )
    a = url_map.bind("example.com")
    assert a.match("/a/b") == ("clean", {"p": "a/b"})
    assert a.match("/a/b.txt") == ("any", {"p": "a/b.txt"})


def test_update_compiles_once() -> None:
    url_map = Map([Rule("/a", endpoint="a")])
    url_map.update()
    matcher = url_map._matcher
    url_map.bind("x").match("/a")
    assert url_map._matcher is matcher


def test_request_redirect_response() -> None:
    pytest.importorskip("erlen.http.response")
    response = RequestRedirect("http://example.com/a/").get_response()
    assert response.status_code == 308
    assert response.headers["Location"] == "http://example.com/a/"
