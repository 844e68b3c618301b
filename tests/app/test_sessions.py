"""Tests for erlen.sessions: signed cookie sessions through a real app and the test client."""

from __future__ import annotations

import hashlib
import json
import logging
import typing as t
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import itsdangerous
import pytest

from erlen import Erlen
from erlen import session
from erlen.http.parsing import parse_date
from erlen.sessions import NullSession
from erlen.sessions import SecureCookieSession
from erlen.sessions import SecureCookieSessionInterface
from erlen.sessions import SessionInterface
from erlen.sessions import SessionMixin
from erlen.sessions import session_json_serializer

if t.TYPE_CHECKING:
    from erlen.wrappers import Request
    from erlen.wrappers import Response


def make_app(**config: t.Any) -> Erlen:
    app = Erlen(__name__)
    app.config["SECRET_KEY"] = "test key"
    app.config.update(config)

    @app.route("/set/<key>/<value>")
    def set_value(key: str, value: str) -> str:
        session[key] = value
        return "set"

    @app.route("/get/<key>")
    def get_value(key: str) -> str:
        return repr(session.get(key))

    @app.route("/permanent")
    def make_permanent() -> str:
        session.permanent = True
        session["p"] = 1
        return "permanent"

    @app.route("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    @app.route("/plain")
    def plain() -> str:
        return "no session here"

    return app


def set_cookie_headers(response: t.Any) -> list[str]:
    return t.cast(list[str], response.headers.getlist("Set-Cookie"))


def signer_for(key: str, serializer: t.Any = session_json_serializer) -> t.Any:
    """An itsdangerous serializer set up as the default session interface's."""
    return itsdangerous.URLSafeTimedSerializer(
        key,
        salt="cookie-session",
        serializer=serializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def cookie_value(app: Erlen, data: t.Any, key: str | None = None) -> str:
    """A session cookie value signed as the app would (or with ``key``)."""
    return str(signer_for(key or app.secret_key).dumps(data))


def vary(response: t.Any) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


# -- persistence through the cookie ------------------------------------------------


def test_session_persists_across_requests() -> None:
    client = make_app().test_client()
    response = client.get("/set/name/ada")
    assert response.text == "set"
    (header,) = set_cookie_headers(response)
    assert header.startswith("session=")
    assert "HttpOnly" in header
    assert "Path=/" in header
    assert "Expires" not in header
    assert client.get("/get/name").text == "'ada'"
    assert client.get("/get/other").text == "None"


def test_cookie_is_signed_tagged_json() -> None:
    app = make_app()
    client = app.test_client()
    client.get("/set/a/b")
    cookie = client.get_cookie("session")
    assert cookie is not None
    interface = t.cast(SecureCookieSessionInterface, app.session_interface)
    signer = interface.get_signing_serializer(app)
    assert signer is not None
    assert signer.loads(cookie.decoded_value) == {"a": "b"}


def test_reading_does_not_resend_cookie() -> None:
    client = make_app().test_client()
    client.get("/set/a/b")
    response = client.get("/get/a")
    assert set_cookie_headers(response) == []
    assert "cookie" in vary(response)


def test_session_values_keep_their_types() -> None:
    app = make_app()
    stored = {"t": (1, 2), "b": b"\x00", "d": datetime(2020, 5, 17, 1, 2, 3, tzinfo=UTC)}

    @app.route("/store")
    def store() -> str:
        session.update(stored)
        return ""

    @app.route("/load")
    def load() -> str:
        assert {k: session[k] for k in stored} == stored
        assert type(session["t"]) is tuple
        return "same"

    client = app.test_client()
    client.get("/store")
    assert client.get("/load").text == "same"


# -- invalid cookies ------------------------------------------------------------------


def _flip_signature(value: str) -> str:
    start = value.rindex(".") + 1
    first = value[start]
    return value[:start] + ("A" if first != "A" else "B") + value[start + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        # The first character of the signature: all six of its bits are used (the last
        # character's low bits are padding, so changing it may change nothing).
        lambda v: _flip_signature(v),
        lambda v: "eyJhIjoiZXZpbCJ9" + v[v.index(".") :],
        lambda v: "garbage",
        lambda v: "...",
        lambda v: "a.b.c.d",
        lambda v: "\u00e9\u00e9",
    ],
    ids=["signature", "payload", "garbage", "dots", "too-many-parts", "non-ascii"],
)
def test_tampered_cookie_gives_empty_session(tamper: t.Callable[[str], str]) -> None:
    app = make_app()
    client = app.test_client()
    client.get("/set/a/good")
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", tamper(cookie.decoded_value))
    response = client.get("/get/a")
    assert response.status_code == 200
    assert response.text == "None"


def test_cookie_signed_with_another_key_is_ignored() -> None:
    app = make_app()
    client = app.test_client()
    client.set_cookie("session", cookie_value(app, {"a": "forged"}, key="other key"))
    assert client.get("/get/a").text == "None"


@pytest.mark.parametrize(
    "payload",
    [["a", "list"], "text", {"b": {" b": "***not base64"}}, {"u": {" u": "nope"}}],
    ids=["list", "str", "bad-bytes", "bad-uuid"],
)
def test_validly_signed_but_undecodable_payload_gives_empty_session(payload: t.Any) -> None:
    app = make_app()
    client = app.test_client()
    # Plain JSON here, so the tag-looking objects reach the tagged loader as they are.
    client.set_cookie("session", str(signer_for(app.secret_key, serializer=json).dumps(payload)))
    assert client.get("/get/b").text == "None"


def test_opened_session_is_new_only_without_valid_cookie() -> None:
    app = make_app()
    seen: list[bool] = []

    @app.route("/new")
    def is_new() -> str:
        seen.append(session.new)
        session["x"] = 1
        return ""

    client = app.test_client()
    client.get("/new")
    client.get("/new")
    assert seen == [True, False]


def test_expired_permanent_session_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(PERMANENT_SESSION_LIFETIME=timedelta(hours=1))
    client = app.test_client()
    with monkeypatch.context() as m:
        two_hours_ago = int(datetime.now(UTC).timestamp()) - 7200
        m.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: two_hours_ago)
        client.get("/permanent")
    cookie = client.get_cookie("session")
    assert cookie is not None
    # The cookie itself is still sent (the client trusts the server's Expires),
    # but its signature is too old.
    client.set_cookie("session", cookie.decoded_value)
    assert client.get("/get/p").text == "None"


def test_recent_permanent_session_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(PERMANENT_SESSION_LIFETIME=timedelta(hours=1))
    client = app.test_client()
    with monkeypatch.context() as m:
        ten_minutes_ago = int(datetime.now(UTC).timestamp()) - 600
        m.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: ten_minutes_ago)
        client.get("/permanent")
    assert client.get("/get/p").text == "1"


# -- key rotation ---------------------------------------------------------------------


def test_key_rotation_reads_old_cookies_and_resigns_with_new_key() -> None:
    app = make_app(SECRET_KEY="old key")
    client = app.test_client()
    client.get("/set/a/1")

    app.config["SECRET_KEY"] = "new key"
    app.config["SECRET_KEY_FALLBACKS"] = ["older key", "old key", "unrelated key"]
    response = client.get("/get/a")
    assert response.text == "'1'"
    assert set_cookie_headers(response) == []

    client.get("/set/b/2")
    cookie = client.get_cookie("session")
    assert cookie is not None
    # SECURITY: CVE-2025-47278: the current key signs, never a fallback.
    assert (
        cookie_value(app, {"a": "1", "b": "2"}, key="new key").split(".")[0]
        == (cookie.decoded_value.split(".")[0])
    )
    assert signer_for("new key").loads(cookie.decoded_value) == {"a": "1", "b": "2"}
    for old in ("old key", "older key", "unrelated key"):
        with pytest.raises(itsdangerous.BadSignature):
            signer_for(old).loads(cookie.decoded_value)

    # Once the old key is retired, the re-signed cookie still works.
    app.config["SECRET_KEY_FALLBACKS"] = None
    assert client.get("/get/b").text == "'2'"


def test_old_key_without_fallback_is_rejected() -> None:
    app = make_app(SECRET_KEY="old key")
    client = app.test_client()
    client.get("/set/a/1")
    app.config["SECRET_KEY"] = "new key"
    assert client.get("/get/a").text == "None"


def test_signing_serializer_is_reused_until_keys_change() -> None:
    app = make_app()
    interface = SecureCookieSessionInterface()
    first = interface.get_signing_serializer(app)
    assert first is not None
    assert interface.get_signing_serializer(app) is first
    app.config["SECRET_KEY_FALLBACKS"] = ["x"]
    second = interface.get_signing_serializer(app)
    assert second is not first
    assert second is not None
    assert second.secret_keys == [b"x", b"test key"]


# -- no secret key --------------------------------------------------------------------


def test_without_secret_key_reading_works() -> None:
    app = make_app(SECRET_KEY=None)

    @app.route("/peek")
    def peek() -> str:
        assert isinstance(session._get_current_object(), NullSession)  # type: ignore[attr-defined]
        return f"{'a' in session} {session.get('a')} {len(session)} {session.permanent}"

    client = app.test_client()
    client.set_cookie("session", "anything")
    response = client.get("/peek")
    assert response.text == "False None 0 False"
    assert set_cookie_headers(response) == []


def test_without_secret_key_writing_raises_clear_error() -> None:
    app = make_app(SECRET_KEY=None, TESTING=True)
    with pytest.raises(RuntimeError, match="no secret key was set. Set the secret_key"):
        app.test_client().get("/set/a/b")


def test_without_secret_key_writing_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(SECRET_KEY=None)
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = app.test_client().get("/set/a/b")
    assert response.status_code == 500
    assert "no secret key was set" not in response.text
    errors = [r for r in caplog.records if r.exc_info]
    assert errors
    exc = errors[-1].exc_info
    assert exc is not None
    assert isinstance(exc[1], RuntimeError)
    assert "Set the secret_key on the application" in str(exc[1])


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.__setitem__("a", 1),
        lambda s: s.__delitem__("a"),
        lambda s: s.clear(),
        lambda s: s.pop("a", None),
        lambda s: s.popitem(),
        lambda s: s.update(a=1),
        lambda s: s.setdefault("a", 1),
        lambda s: s.__ior__({"a": 1}),
        lambda s: setattr(s, "permanent", True),
    ],
)
def test_null_session_refuses_every_write(write: t.Callable[[NullSession], t.Any]) -> None:
    with pytest.raises(RuntimeError, match="no secret key was set"):
        write(NullSession())


def test_null_session_is_detected_and_not_saved() -> None:
    interface = SecureCookieSessionInterface()
    app = make_app(SECRET_KEY="")
    null = interface.make_null_session(app)
    assert interface.is_null_session(null)
    assert not interface.is_null_session(SecureCookieSession())
    with app.test_request_context():
        assert interface.open_session(app, t.cast("Request", None)) is None


# -- Vary: Cookie ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "access",
    [
        lambda s: s["a"],
        lambda s: s.get("a"),
        lambda s: "a" in s,
        lambda s: len(s),
        lambda s: bool(s),
        lambda s: list(s),
        lambda s: s.keys(),
        lambda s: s.values(),
        lambda s: s.items(),
        lambda s: s.copy(),
        lambda s: s == {},
        lambda s: s._get_current_object() | {},
        lambda s: list(reversed(s)),
        lambda s: s.setdefault("a", "1"),
        lambda s: s.permanent,
    ],
    ids=[
        "getitem",
        "get",
        "in",
        "len",
        "bool",
        "iter",
        "keys",
        "values",
        "items",
        "copy",
        "eq",
        "or",
        "reversed",
        "setdefault",
        "permanent",
    ],
)
def test_any_access_adds_vary_cookie(access: t.Callable[[t.Any], t.Any]) -> None:
    # SECURITY: CVE-2023-30861 and CVE-2026-27205 (`in` and other key-only reads).
    app = make_app()

    @app.route("/access")
    def view() -> str:
        access(session)
        return "ok"

    client = app.test_client()
    client.get("/set/a/1")
    response = client.get("/access")
    assert "cookie" in vary(response)


def test_access_without_cookie_still_varies() -> None:
    app = make_app()

    @app.route("/check")
    def check() -> str:
        return str("user" in session)

    response = app.test_client().get("/check")
    assert response.text == "False"
    assert "cookie" in vary(response)
    assert set_cookie_headers(response) == []


def test_vary_is_added_not_replaced() -> None:
    app = make_app()

    @app.route("/accept")
    def accept() -> t.Any:
        session.get("a")
        return "x", {"Vary": "Accept-Encoding"}

    response = app.test_client().get("/accept")
    assert vary(response) == {"accept-encoding", "cookie"}


def test_modified_without_read_still_varies() -> None:
    app = make_app()

    @app.route("/touch")
    def touch() -> str:
        session.modified = True
        return "ok"

    client = app.test_client()
    client.get("/set/a/1")
    response = client.get("/touch")
    assert len(set_cookie_headers(response)) == 1
    assert "cookie" in vary(response)


def test_view_without_session_does_no_session_work() -> None:
    calls: list[str] = []

    class Spy(SecureCookieSessionInterface):
        def open_session(self, app: Erlen, request: Request) -> SecureCookieSession | None:
            calls.append("open")
            return super().open_session(app, request)

        def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
            calls.append("save")
            super().save_session(app, session, response)

    app = make_app()
    app.session_interface = Spy()
    client = app.test_client()
    client.get("/set/a/1")
    assert calls == ["open", "save"]
    calls.clear()
    response = client.get("/plain")
    assert response.text == "no session here"
    assert calls == []
    assert "Vary" not in response.headers
    assert set_cookie_headers(response) == []


# -- deleting -------------------------------------------------------------------------


def test_emptied_session_deletes_cookie_with_matching_attributes() -> None:
    app = make_app(SESSION_COOKIE_DOMAIN="example.com", SESSION_COOKIE_PATH="/app")
    client = app.test_client()
    client.get("/set/a/1", base_url="http://example.com")
    assert client.get_cookie("session", domain="example.com", path="/app") is not None
    # The cookie was set for /app and these routes aren't under it: send it from /.
    client.set_cookie("session", cookie_value(app, {"a": "1"}), domain="example.com", path="/")
    response = client.get("/clear", base_url="http://example.com")
    (header,) = set_cookie_headers(response)
    assert header.startswith("session=;")
    assert "Max-Age=0" in header
    assert "1970" in header
    assert "Domain=example.com" in header
    assert "Path=/app" in header
    assert "cookie" in vary(response)


def test_clearing_removes_cookie_from_client() -> None:
    client = make_app().test_client()
    client.get("/set/a/1")
    assert client.get_cookie("session") is not None
    client.get("/clear")
    assert client.get_cookie("session") is None
    assert client.get("/get/a").text == "None"


def test_clearing_an_empty_session_without_cookie_sends_deletion() -> None:
    # COMPAT: Flask deletes on any modified empty session; harmless without a cookie.
    response = make_app().test_client().get("/clear")
    assert len(set_cookie_headers(response)) == 1


def test_empty_unmodified_session_sets_nothing() -> None:
    response = make_app().test_client().get("/get/a")
    assert set_cookie_headers(response) == []


# -- cookie attributes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "present", "absent"),
    [
        (
            {},
            ["session=", "HttpOnly", "Path=/", "SameSite=Lax"],
            ["Secure", "Domain", "Partitioned"],
        ),
        ({"SESSION_COOKIE_SAMESITE": None}, [], ["SameSite"]),
        ({"SESSION_COOKIE_NAME": "sid"}, ["sid="], ["session="]),
        ({"SESSION_COOKIE_DOMAIN": "example.com"}, ["Domain=example.com"], []),
        ({"SESSION_COOKIE_PATH": "/sub"}, ["Path=/sub"], ["Path=/;"]),
        ({"APPLICATION_ROOT": "/root"}, ["Path=/root"], []),
        ({"APPLICATION_ROOT": "/root", "SESSION_COOKIE_PATH": "/p"}, ["Path=/p"], ["/root"]),
        ({"SESSION_COOKIE_HTTPONLY": False}, [], ["HttpOnly"]),
        ({"SESSION_COOKIE_SECURE": True}, ["Secure"], []),
        ({"SESSION_COOKIE_SAMESITE": "Lax"}, ["SameSite=Lax"], []),
        ({"SESSION_COOKIE_SAMESITE": "Strict"}, ["SameSite=Strict"], []),
        ({"SESSION_COOKIE_PARTITIONED": True}, ["Partitioned"], []),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else "",
)
def test_cookie_attributes_follow_config(
    config: dict[str, t.Any], present: list[str], absent: list[str]
) -> None:
    app = make_app(**config)
    with app.test_request_context():
        session["a"] = 1
        response = app.response_class("x")
        app.session_interface.save_session(app, session._get_current_object(), response)  # type: ignore[attr-defined]
    (header,) = set_cookie_headers(response)
    for part in present:
        assert part in header
    for part in absent:
        assert part not in header


def test_interface_getters_read_config() -> None:
    app = make_app(
        SESSION_COOKIE_NAME="n",
        SESSION_COOKIE_DOMAIN="d.example",
        SESSION_COOKIE_PATH="/x",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="None",
        SESSION_COOKIE_PARTITIONED=True,
    )
    i = SecureCookieSessionInterface()
    assert i.get_cookie_name(app) == "n"
    assert i.get_cookie_domain(app) == "d.example"
    assert i.get_cookie_path(app) == "/x"
    assert i.get_cookie_httponly(app) is False
    assert i.get_cookie_secure(app) is True
    assert i.get_cookie_samesite(app) == "None"
    assert i.get_cookie_partitioned(app) is True
    app.config["SESSION_COOKIE_DOMAIN"] = ""
    assert i.get_cookie_domain(app) is None


# -- permanent sessions and refresh -----------------------------------------------------


def test_permanent_session_gets_expires() -> None:
    app = make_app(PERMANENT_SESSION_LIFETIME=timedelta(days=2))
    client = app.test_client()
    before = datetime.now(UTC).replace(microsecond=0)
    response = client.get("/permanent")
    (header,) = set_cookie_headers(response)
    expires_text = header.split("Expires=")[1].split(";")[0]
    expires = parse_date(expires_text)
    assert expires is not None
    assert before + timedelta(days=2) <= expires <= before + timedelta(days=2, seconds=5)
    assert client.get("/get/p").text == "1"


def test_permanent_lifetime_as_seconds() -> None:
    app = make_app(PERMANENT_SESSION_LIFETIME=60)
    interface = SecureCookieSessionInterface()
    s = SecureCookieSession({"_permanent": True})
    expires = interface.get_expiration_time(app, s)
    assert expires is not None
    assert timedelta(seconds=55) < expires - datetime.now(UTC) <= timedelta(seconds=60)
    assert interface.get_expiration_time(app, SecureCookieSession()) is None


@pytest.mark.parametrize("refresh", [True, False])
def test_refresh_each_request(refresh: bool) -> None:
    client = make_app(SESSION_REFRESH_EACH_REQUEST=refresh).test_client()
    client.get("/permanent")
    response = client.get("/get/p")
    assert response.text == "1"
    assert len(set_cookie_headers(response)) == (1 if refresh else 0)
    if refresh:
        assert "Expires=" in set_cookie_headers(response)[0]
        assert "cookie" in vary(response)


def test_refresh_does_not_apply_to_non_permanent_sessions() -> None:
    client = make_app(SESSION_REFRESH_EACH_REQUEST=True).test_client()
    client.get("/set/a/1")
    assert set_cookie_headers(client.get("/get/a")) == []


# -- the session object ---------------------------------------------------------------


def test_secure_cookie_session_tracks_reads_and_writes() -> None:
    s = SecureCookieSession({"a": 1})
    assert not s.accessed
    assert not s.modified
    assert s["a"] == 1
    assert s.accessed
    assert not s.modified
    s.accessed = False
    assert "a" in s
    assert s.accessed
    s.setdefault("a", 2)
    assert not s.modified
    assert s.pop("missing", None) is None
    assert not s.modified
    with pytest.raises(KeyError):
        s.pop("missing")
    assert not s.modified
    s.setdefault("b", 2)
    assert s.modified


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.__setitem__("x", 1),
        lambda s: s.__delitem__("a"),
        lambda s: s.pop("a"),
        lambda s: s.popitem(),
        lambda s: s.clear(),
        lambda s: s.update(x=1),
        lambda s: s.__ior__({"x": 1}),
        lambda s: setattr(s, "permanent", True),
    ],
)
def test_every_write_marks_modified(write: t.Callable[[SecureCookieSession], t.Any]) -> None:
    s = SecureCookieSession({"a": 1})
    write(s)
    assert s.modified
    assert s.accessed


def test_in_place_or_returns_the_session() -> None:
    s = SecureCookieSession()
    s |= {"a": 1}
    assert type(s) is SecureCookieSession
    assert dict(s) == {"a": 1}


def test_permanent_is_stored_in_the_session() -> None:
    s = SecureCookieSession()
    assert s.permanent is False
    s.permanent = True
    assert dict(s) == {"_permanent": True}
    assert s.permanent is True
    assert repr(s) == "<SecureCookieSession {'_permanent': True}>"


def test_session_mixin_defaults_for_other_mappings() -> None:
    class DictSession(dict[str, t.Any], SessionMixin):
        pass

    s = DictSession()
    assert (s.new, s.modified, s.accessed) == (False, True, True)
    s.permanent = True
    assert s["_permanent"] is True


# -- custom interfaces ----------------------------------------------------------------


class ServerSideInterface(SessionInterface):
    """Keeps data in a dict; the cookie carries only an id."""

    def __init__(self) -> None:
        self.store: dict[str, dict[str, t.Any]] = {}

    def open_session(self, app: Erlen, request: Request) -> SessionMixin | None:
        sid = request.cookies.get("sid")
        data = self.store.get(sid or "", {})
        s = SecureCookieSession(data)
        s["_sid"] = sid or f"id{len(self.store)}"
        s.modified = False
        return s

    def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
        sid = session["_sid"]
        if session.modified:
            self.store[sid] = dict(session)
            response.set_cookie("sid", sid, path=self.get_cookie_path(app))


def test_custom_session_interface() -> None:
    app = make_app()
    interface = ServerSideInterface()
    app.session_interface = interface
    assert app.session_interface is interface
    client = app.test_client()
    response = client.get("/set/a/1")
    assert set_cookie_headers(response) == ["sid=id0; Path=/"]
    assert interface.store == {"id0": {"a": "1", "_sid": "id0"}}
    assert client.get("/get/a").text == "'1'"
    assert client.get_cookie("session") is None


def test_base_interface_methods_are_abstract() -> None:
    app = make_app()
    interface = SessionInterface()
    with pytest.raises(NotImplementedError):
        interface.open_session(app, t.cast("Request", None))
    with pytest.raises(NotImplementedError):
        interface.save_session(app, SecureCookieSession(), t.cast("Response", None))
    assert interface.pickle_based is False
    assert interface.null_session_class is NullSession


def test_open_session_returning_none_gives_null_session() -> None:
    class NoSessions(SecureCookieSessionInterface):
        def open_session(self, app: Erlen, request: Request) -> SecureCookieSession | None:
            return None

    app = make_app()
    app.session_interface = NoSessions()
    with app.test_request_context():
        assert isinstance(session._get_current_object(), NullSession)  # type: ignore[attr-defined]
    response = app.test_client().get("/get/a")
    assert response.text == "None"
    assert set_cookie_headers(response) == []


def test_default_interface_is_secure_cookie() -> None:
    app = Erlen(__name__)
    assert isinstance(app.session_interface, SecureCookieSessionInterface)
    assert app.session_interface is app.session_interface


def test_test_request_context_reads_cookie() -> None:
    app = make_app()
    value = cookie_value(app, {"user": "ada", "t": (1, 2)})
    with app.test_request_context(headers={"Cookie": f"session={value}"}):
        assert session["user"] == "ada"
        assert session["t"] == (1, 2)
