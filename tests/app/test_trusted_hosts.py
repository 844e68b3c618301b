"""TRUSTED_HOSTS: a request to another host is a 400, before any view runs."""

from __future__ import annotations

from erlen import Erlen
from erlen import request


def test_trusted_hosts(app: Erlen) -> None:
    app.config["TRUSTED_HOSTS"] = ["example.com", ".example.org"]
    seen: list[str] = []

    @app.route("/")
    def index() -> str:
        seen.append(request.host)
        return request.host

    client = app.test_client()
    assert client.get("/", headers={"Host": "example.com"}).text == "example.com"
    assert client.get("/", headers={"Host": "api.example.org:8080"}).status_code == 200
    rv = client.get("/", headers={"Host": "evil.test"})
    assert rv.status_code == 400
    assert b"TRUSTED_HOSTS" in rv.data
    assert seen == ["example.com", "api.example.org:8080"]


def test_no_trusted_hosts_accepts_any_valid_host(app: Erlen) -> None:
    app.add_url_rule("/", "i", lambda: request.host)
    client = app.test_client()
    assert client.get("/", headers={"Host": "anything.test"}).text == "anything.test"
    assert client.get("/", headers={"Host": "bad/host"}).status_code == 400
