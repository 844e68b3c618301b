from __future__ import annotations

import pytest

from erlen.routing import EndpointPrefix
from erlen.routing import Map
from erlen.routing import Rule
from erlen.routing import RuleTemplate
from erlen.routing import Subdomain
from erlen.routing import Submount


@pytest.mark.parametrize(
    ("string", "message"),
    [
        ("/a/<b", "Malformed URL rule '/a/<b'"),
        ("/a/<int:>", "Malformed URL rule"),
        ("/a/<1x>", "Malformed URL rule"),
        ("/<a>/<int:a>", "Variable name 'a' used twice in URL rule '/<a>/<int:a>'"),
        ("a/b", "URL rule 'a/b' must start with a slash"),
        ("", "URL rule '' must start with a slash"),
    ],
)
def test_syntax_errors(string: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Rule(string, endpoint="x")


def test_duplicate_between_host_and_path() -> None:
    with pytest.raises(ValueError, match="used twice"):
        Rule("/<a>", host="<a>.example.com", endpoint="x")


def test_methods() -> None:
    assert Rule("/", methods=["get", "post"]).methods == {"GET", "HEAD", "POST"}
    assert Rule("/", methods=["POST"]).methods == {"POST"}
    assert Rule("/").methods is None
    with pytest.raises(TypeError, match="list of strings"):
        Rule("/", methods="GET")


def test_websocket_methods() -> None:
    assert Rule("/ws", websocket=True).methods == {"GET", "HEAD"}
    with pytest.raises(ValueError, match="WebSocket rule '/ws' can only use"):
        Rule("/ws", websocket=True, methods=["POST"])


def test_arguments_and_defaults() -> None:
    rule = Rule("/<int:a>/<b>", defaults={"c": 1}, endpoint="x")
    assert rule.arguments == {"a", "b", "c"}
    Map([rule])
    assert rule.arguments == {"a", "b", "c"}
    assert rule.defaults == {"c": 1}


def test_bind_uses_map_settings() -> None:
    rule = Rule("/a", endpoint="x")
    url_map = Map([rule], strict_slashes=False, merge_slashes=False, default_subdomain="www")
    assert rule.map is url_map
    assert rule.strict_slashes is False
    assert rule.merge_slashes is False
    assert rule.subdomain == "www"


def test_rule_bound_twice() -> None:
    rule = Rule("/a", endpoint="x")
    Map([rule])
    with pytest.raises(RuntimeError, match="already bound"):
        Map([rule])
    copy = rule.empty()
    assert copy.map is None
    assert copy.rule == "/a"
    assert copy.endpoint == "x"
    Map([copy])


def test_empty_keeps_provide_automatic_options() -> None:
    rule = Rule("/a", endpoint="x", methods=["GET"])
    rule.provide_automatic_options = False
    assert rule.empty().provide_automatic_options is False


def test_repr() -> None:
    rule = Rule("/u/<int:id>", endpoint="user", methods=["GET"])
    assert repr(rule) == "<Rule '/u/<int:id>' (GET, HEAD) -> user>"
    assert repr(Rule("/", subdomain="api", endpoint="i")) == "<Rule 'api|/' -> i>"
    assert repr(Map([Rule("/", endpoint="i")])) == "Map([<Rule '/' -> i>])"


def test_factories() -> None:
    url_map = Map(
        [
            Subdomain(
                "api",
                [EndpointPrefix("api.", [Submount("/v1/", [Rule("/users", endpoint="users")])])],
            )
        ]
    )
    (rule,) = url_map.iter_rules()
    assert rule.rule == "/v1/users"
    assert rule.endpoint == "api.users"
    assert rule.subdomain == "api"
    a = url_map.bind("example.com", subdomain="api")
    assert a.match("/v1/users") == ("api.users", {})


def test_rule_template() -> None:
    template = RuleTemplate([Rule("/$name/<int:id>", endpoint="$name")])
    url_map = Map([template(name="post"), template(name="page")])
    a = url_map.bind("example.com")
    assert a.match("/post/3") == ("post", {"id": 3})
    assert a.build("page", {"id": 2}) == "/page/2"


def test_iter_rules_and_expecting() -> None:
    r1 = Rule("/", endpoint="i")
    r2 = Rule("/<lang>/", endpoint="i")
    url_map = Map([r1, r2])
    assert list(url_map.iter_rules()) == [r1, r2]
    assert set(url_map.iter_rules("i")) == {r1, r2}
    with pytest.raises(KeyError):
        url_map.iter_rules("nope")
    assert url_map.is_endpoint_expecting("i", "lang")
    assert not url_map.is_endpoint_expecting("i", "page")
    assert not url_map.is_endpoint_expecting("nope", "lang")
