"""The app remembers static route hits (Erlen._match_request): the memo must
never answer differently from a full match."""

from __future__ import annotations

import typing as t

import pytest

from erlen import Erlen
from erlen import request
from erlen.routing import Rule


@pytest.fixture
def app() -> Erlen:
    app = Erlen(__name__)
    app.testing = True

    @app.route("/")
    def index(added: bool = False) -> str:
        return f"index {request.endpoint} {added}"

    @app.route("/page", defaults={"n": 1})
    @app.route("/page/<int:n>")
    def page(n: int) -> str:
        return f"page {n}"

    return app


def test_a_static_hit_is_served_again_with_fresh_view_args(app: Erlen) -> None:
    seen: list[dict[str, t.Any]] = []

    @app.url_value_preprocessor
    def record(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        assert values is not None
        seen.append(dict(values))
        values["added"] = True

    client = app.test_client()
    assert client.get("/").text == "index index True"
    assert client.get("/").text == "index index True"
    assert seen == [{}, {}]
    assert "/" in app.url_map.match_cache


def test_rules_with_defaults_keep_their_values(app: Erlen) -> None:
    client = app.test_client()
    for _ in range(2):
        assert client.get("/page").text == "page 1"
        assert client.get("/page/7").text == "page 7"
    assert "/page" not in app.url_map.match_cache
    assert "/page/7" not in app.url_map.match_cache


def test_method_not_allowed_after_a_hit(app: Erlen) -> None:
    client = app.test_client()
    assert client.get("/").status_code == 200
    response = client.post("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_a_rule_added_later_is_seen(app: Erlen) -> None:
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.delete("/").status_code == 405
    app.url_map.add(Rule("/", endpoint="index_delete", methods=["DELETE"]))
    app.view_functions["index_delete"] = lambda: "deleted"
    assert app.url_map.match_cache == {}
    assert client.delete("/").text == "deleted"


def test_trusted_hosts_set_after_a_hit_are_enforced(app: Erlen) -> None:
    client = app.test_client()
    assert client.get("/").status_code == 200
    app.config["TRUSTED_HOSTS"] = ["example.org"]
    assert client.get("/", base_url="http://evil.test").status_code == 400
    assert client.get("/", base_url="http://example.org").status_code == 200


def test_made_up_methods_are_bounded(app: Erlen) -> None:
    # A rule without a methods list matches any method a client sends.
    app.url_map.add(Rule("/any", endpoint="any"))
    app.view_functions["any"] = lambda: "any"
    client = app.test_client()
    for i in range(40):
        assert client.open("/any", method=f"VERB{i}").text == "any"
    assert len(app.url_map.match_cache["/any"]) <= 16


def test_a_websocket_request_is_not_answered_from_the_http_memo(app: Erlen) -> None:
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/", base_url="ws://localhost").status_code == 400


def test_redirecting_rules_redirect_every_time(app: Erlen) -> None:
    # /page/1 is the canonical URL of /page's defaults: Werkzeug redirects it.
    app.add_url_rule("/old/<int:n>", redirect_to="/page/<n>", endpoint="old")

    @app.route("/folder/<int:n>/")
    def folder(n: int) -> str:
        return f"folder {n}"

    client = app.test_client()
    for _ in range(2):
        response = client.get("/page/1")
        assert response.status_code == 308
        assert response.headers["Location"].endswith("/page")
        response = client.get("/old/3")
        assert response.status_code == 308
        assert response.headers["Location"].endswith("/page/3")
        response = client.get("/folder/2")
        assert response.status_code == 308
        assert response.headers["Location"].endswith("/folder/2/")
        assert client.get("/folder/2/").text == "folder 2"
        assert client.get("/page/x").status_code == 404
        assert client.post("/page/2").status_code == 405
