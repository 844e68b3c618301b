"""The app core: routing registration, hooks, error handlers, responses, WSGI."""

from __future__ import annotations

import asyncio
import io
import threading
import typing as t
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

import erlen
from erlen import Erlen
from erlen import Flask
from erlen import abort
from erlen import after_this_request
from erlen import copy_current_request_context
from erlen import current_app
from erlen import g
from erlen import has_app_context
from erlen import has_request_context
from erlen import jsonify
from erlen import make_response
from erlen import redirect
from erlen import request
from erlen import stream_with_context
from erlen import url_for
from erlen.http.exceptions import BadRequest
from erlen.http.exceptions import Forbidden
from erlen.http.exceptions import HTTPException
from erlen.http.exceptions import InternalServerError
from erlen.http.exceptions import NotFound
from erlen.wrappers import Response


def wsgi_call(
    app: t.Any, path: str = "/", method: str = "GET", **environ: t.Any
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call a WSGI app through wsgiref's validator; return status, headers, body."""
    env: dict[str, t.Any] = {
        "PATH_INFO": path,
        "REQUEST_METHOD": method,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
    }
    env.update(environ)
    setup_testing_defaults(env)
    out: dict[str, t.Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> t.Any:
        out["status"], out["headers"] = status, headers
        return lambda data: None

    iterable = validator(app)(env, start_response)
    try:
        body = b"".join(iterable)
    finally:
        iterable.close()
    return out["status"], out["headers"], body


def test_flask_is_erlen() -> None:
    assert Flask is Erlen


def test_hello_world(app: Erlen) -> None:
    @app.route("/")
    def hello() -> str:
        return "Hello World!"

    status, headers, body = wsgi_call(app)
    assert status == "200 OK"
    assert ("Content-Type", "text/html; charset=utf-8") in headers
    assert ("Content-Length", "12") in headers
    assert body == b"Hello World!"


def test_method_decorators(app: Erlen, client: t.Any) -> None:
    for method in ("get", "post", "put", "patch", "delete"):

        def view(m: str = method) -> str:
            return m

        view.__name__ = method
        getattr(app, method)("/m")(view)
    for method in ("get", "post", "put", "patch", "delete"):
        rv = client.open("/m", method=method.upper())
        assert rv.text == method


def test_method_decorator_refuses_methods(app: Erlen) -> None:
    with pytest.raises(TypeError, match="route"):
        app.get("/", methods=["POST"])


def test_methods_must_not_be_a_string(app: Erlen) -> None:
    with pytest.raises(TypeError, match="list of strings"):
        app.add_url_rule("/", "x", lambda: "", methods="POST")


def test_endpoint_overwrite_is_refused(app: Erlen) -> None:
    app.add_url_rule("/a", "same", lambda: "a")
    with pytest.raises(AssertionError, match="overwriting an existing endpoint function: same"):
        app.add_url_rule("/b", "same", lambda: "b")


def test_endpoint_decorator(app: Erlen, client: t.Any) -> None:
    app.add_url_rule("/e", "my_endpoint")

    @app.endpoint("my_endpoint")
    def view() -> str:
        return "from endpoint"

    assert client.get("/e").text == "from endpoint"
    assert app.view_functions["my_endpoint"] is view


def test_404_and_405(app: Erlen, client: t.Any) -> None:
    @app.route("/p", methods=["POST"])
    def p() -> str:
        return "p"

    rv = client.get("/nothing")
    assert rv.status_code == 404
    rv = client.get("/p")
    assert rv.status_code == 405
    assert sorted(rv.headers["Allow"].split(", ")) == ["OPTIONS", "POST"]


def test_automatic_options_and_head(app: Erlen, client: t.Any) -> None:
    @app.route("/x", methods=["GET", "POST"])
    def x() -> str:
        return "body"

    rv = client.options("/x")
    assert rv.status_code == 200
    assert sorted(rv.headers["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS", "POST"]
    rv = client.head("/x")
    assert rv.status_code == 200
    assert rv.data == b""
    assert rv.headers["Content-Length"] == "4"


def test_provide_automatic_options_off(app: Erlen, client: t.Any) -> None:
    app.add_url_rule("/x", "x", lambda: "x", provide_automatic_options=False)
    assert client.options("/x").status_code == 405


def test_strict_slashes_redirect_keeps_query(app: Erlen, client: t.Any) -> None:
    @app.route("/dir/")
    def d() -> str:
        return "dir"

    rv = client.get("/dir?a=1")
    assert rv.status_code == 308
    assert rv.headers["Location"].endswith("/dir/?a=1")
    assert client.get("/dir", follow_redirects=True).text == "dir"


def test_view_args_and_converters(app: Erlen, client: t.Any) -> None:
    @app.route("/u/<int:uid>/<name>")
    def u(uid: int, name: str) -> str:
        assert request.view_args == {"uid": uid, "name": name}
        assert request.endpoint == "u"
        assert request.url_rule is not None and request.url_rule.rule == "/u/<int:uid>/<name>"
        return f"{uid + 1} {name}"

    assert client.get("/u/41/zoë").text == "42 zoë"
    assert client.get("/u/x/y").status_code == 404


# -- make_response ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rv", "status", "body", "content_type"),
    [
        ("text", 200, b"text", "text/html; charset=utf-8"),
        (b"bytes", 200, b"bytes", "text/html; charset=utf-8"),
        ({"a": 1}, 200, b'{"a":1}\n', "application/json"),
        ([1, 2], 200, b"[1,2]\n", "application/json"),
        (("created", 201), 201, b"created", "text/html; charset=utf-8"),
        (("teapot", "418 I'm a teapot"), 418, b"teapot", "text/html; charset=utf-8"),
        (("h", {"X-A": "1"}), 200, b"h", "text/html; charset=utf-8"),
        (("h", 202, [("X-A", "1")]), 202, b"h", "text/html; charset=utf-8"),
        (({"a": 1}, 400), 400, b'{"a":1}\n', "application/json"),
        ((Response("r", mimetype="text/plain"), 203), 203, b"r", "text/plain; charset=utf-8"),
    ],
)
def test_make_response_values(
    app: Erlen, client: t.Any, rv: t.Any, status: int, body: bytes, content_type: str
) -> None:
    app.add_url_rule("/", "v", lambda: rv)
    response = client.get("/")
    assert response.status_code == status
    assert response.data == body
    assert response.headers["Content-Type"] == content_type
    if isinstance(rv, tuple) and len(rv) >= 2 and not isinstance(rv[-1], int | str):
        assert response.headers["X-A"] == "1"


def test_make_response_generator_is_streamed(app: Erlen, client: t.Any) -> None:
    @app.route("/")
    def stream() -> t.Any:
        def gen() -> t.Iterator[str]:
            yield "a"
            yield "b"

        return gen()

    rv = client.get("/")
    assert rv.data == b"ab"
    assert "Content-Length" not in rv.headers


def test_view_returning_none_names_the_view(app: Erlen) -> None:
    @app.route("/")
    def forgetful() -> None:
        pass

    with pytest.raises(TypeError, match="'forgetful' did not return a valid response"):
        app.test_client().get("/")


def test_bad_tuple_and_type(app: Erlen) -> None:
    app.add_url_rule("/t", "t", lambda: ("a", 200, {}, 1))
    app.add_url_rule("/o", "o", lambda: object())
    client = app.test_client()
    with pytest.raises(TypeError, match="valid response tuple"):
        client.get("/t")
    with pytest.raises(TypeError, match="but it was a object"):
        client.get("/o")


def test_make_response_helper(app: Erlen) -> None:
    with app.test_request_context():
        response = make_response("x", 404, {"X-Y": "z"})
        assert response.status_code == 404
        assert response.headers["X-Y"] == "z"
        assert make_response().status_code == 200
        assert jsonify(a=1).json == {"a": 1}
        assert jsonify([1, 2]).json == [1, 2]


def test_redirect_and_abort_helpers(app: Erlen, client: t.Any) -> None:
    @app.route("/r")
    def r() -> t.Any:
        return redirect(url_for("target", x=1), 301)

    @app.route("/target")
    def target() -> str:
        abort(403)

    rv = client.get("/r")
    assert rv.status_code == 301
    assert rv.headers["Location"] == "/target?x=1"
    assert client.get("/target").status_code == 403


def test_abort_with_response(app: Erlen, client: t.Any) -> None:
    app.add_url_rule("/", "v", lambda: abort(Response("custom", 409)))
    rv = client.get("/")
    assert (rv.status_code, rv.data) == (409, b"custom")


# -- hooks ----------------------------------------------------------------------


def test_hooks_order(app: Erlen, client: t.Any) -> None:
    calls: list[str] = []

    @app.before_request
    def b1() -> None:
        calls.append("before1")

    @app.before_request
    def b2() -> None:
        calls.append("before2")

    @app.after_request
    def a1(response: Response) -> Response:
        calls.append("after1")
        return response

    @app.after_request
    def a2(response: Response) -> Response:
        calls.append("after2")
        response.headers["X-After"] = "yes"
        return response

    @app.teardown_request
    def td(exc: BaseException | None) -> None:
        calls.append(f"teardown {exc!r}")

    @app.teardown_appcontext
    def tda(exc: BaseException | None) -> None:
        calls.append("teardown_app")

    @app.route("/")
    def index() -> str:
        calls.append("view")

        @after_this_request
        def once(response: Response) -> Response:
            calls.append("after_this")
            return response

        return "ok"

    with app.test_client() as c:
        rv = c.get("/")
    assert rv.headers["X-After"] == "yes"
    assert calls == [
        "before1",
        "before2",
        "view",
        "after_this",
        "after2",
        "after1",
        "teardown None",
        "teardown_app",
    ]


def test_before_request_short_circuits(app: Erlen, client: t.Any) -> None:
    seen: list[str] = []
    app.before_request(lambda: "stopped")
    app.before_request(lambda: seen.append("second"))

    @app.route("/")
    def index() -> str:
        seen.append("view")
        return "view"

    assert client.get("/").text == "stopped"
    assert seen == []


def test_before_request_runs_for_404(app: Erlen, client: t.Any) -> None:
    seen: list[t.Any] = []
    app.before_request(lambda: seen.append(request.endpoint))
    assert client.get("/missing").status_code == 404
    assert seen == [None]


def test_url_value_preprocessor_and_defaults(app: Erlen, client: t.Any) -> None:
    @app.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        g.lang = values.pop("lang") if values else None

    @app.url_defaults
    def add_lang(endpoint: str, values: dict[str, t.Any]) -> None:
        if "lang" not in values and app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values["lang"] = g.lang

    @app.route("/<lang>/page")
    def page() -> str:
        return f"{g.lang} {url_for('page')}"

    assert client.get("/de/page").text == "de /de/page"


def test_teardown_sees_unhandled_error(app: Erlen) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    errors: list[BaseException | None] = []
    app.teardown_request(errors.append)

    @app.route("/")
    def boom() -> str:
        raise ZeroDivisionError("x")

    assert app.test_client().get("/").status_code == 500
    assert len(errors) == 1 and isinstance(errors[0], ZeroDivisionError)


def test_setup_after_first_request_is_refused(app: Erlen, client: t.Any) -> None:
    app.add_url_rule("/", "i", lambda: "i")
    client.get("/")
    with pytest.raises(AssertionError, match="already handled its first request"):
        app.add_url_rule("/late", "late", lambda: "late")
    with pytest.raises(AssertionError, match="before_request"):
        app.before_request(lambda: None)


# -- errors -----------------------------------------------------------------------


def test_errorhandler_by_code_and_class(app: Erlen, client: t.Any) -> None:
    class MyError(Exception):
        pass

    class MySubError(MyError):
        pass

    @app.errorhandler(404)
    def nf(e: NotFound) -> tuple[str, int]:
        return f"custom {e.code}", 404

    @app.errorhandler(MyError)
    def mine(e: MyError) -> tuple[str, int]:
        return "my error", 400

    @app.errorhandler(MySubError)
    def sub(e: MySubError) -> tuple[str, int]:
        return "sub error", 401

    def raise_(exc: Exception) -> t.Any:
        raise exc

    app.add_url_rule("/my", "my", lambda: raise_(MyError()))
    app.add_url_rule("/sub", "sub", lambda: raise_(MySubError()))
    assert client.get("/nope").text == "custom 404"
    assert (client.get("/my").status_code, client.get("/my").text) == (400, "my error")
    assert (client.get("/sub").status_code, client.get("/sub").text) == (401, "sub error")


def test_http_exception_handler_catches_all_http_errors(app: Erlen, client: t.Any) -> None:
    @app.errorhandler(HTTPException)
    def any_http(e: HTTPException) -> tuple[str, int]:
        return f"http {e.code}", e.code or 500

    app.add_url_rule("/forbidden", "f", lambda: abort(403))
    assert client.get("/forbidden").text == "http 403"
    assert client.get("/missing").text == "http 404"


def test_specific_code_beats_base_class(app: Erlen, client: t.Any) -> None:
    app.register_error_handler(HTTPException, lambda e: ("base", 500))
    app.register_error_handler(Forbidden, lambda e: ("forbidden", 403))
    app.add_url_rule("/", "v", lambda: abort(403))
    assert client.get("/").text == "forbidden"


def test_errorhandler_rejects_bad_registrations(app: Erlen) -> None:
    with pytest.raises(ValueError, match="not a recognized HTTP error code"):
        app.register_error_handler(999, lambda e: "")
    with pytest.raises(TypeError, match="instance"):
        app.register_error_handler(ValueError(), lambda e: "")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a subclass of Exception"):
        app.register_error_handler(str, lambda e: "")  # type: ignore[arg-type]


def test_unhandled_error_is_500_with_original(app: Erlen, client: t.Any) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[t.Any] = []

    @app.errorhandler(500)
    def server_error(e: InternalServerError) -> tuple[str, int]:
        seen.append(e.original_exception)
        return "sorry", 500

    @app.route("/")
    def boom() -> str:
        raise KeyError("boom")

    rv = client.get("/")
    assert (rv.status_code, rv.text) == (500, "sorry")
    assert isinstance(seen[0], KeyError)


def test_unhandled_error_plain_500_page(app: Erlen, caplog: pytest.LogCaptureFixture) -> None:
    app.testing = False
    app.add_url_rule("/", "boom", lambda: 1 / 0)
    rv = app.test_client().get("/")
    assert rv.status_code == 500
    assert b"Internal Server Error" in rv.data
    assert b"ZeroDivisionError" not in rv.data
    assert "Exception on / [GET]" in caplog.text


def test_errors_propagate_in_testing_and_debug(app: Erlen) -> None:
    app.add_url_rule("/", "boom", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        app.test_client().get("/")
    app.config.update(TESTING=False, DEBUG=True)
    with pytest.raises(ZeroDivisionError):
        app.test_client().get("/")


def test_bad_request_key_error(app: Erlen, client: t.Any) -> None:
    app.add_url_rule("/", "f", lambda: request.form["missing"], methods=["POST"])
    rv = client.post("/", data={"other": "1"})
    assert rv.status_code == 400
    app.debug = True
    with pytest.raises(KeyError):
        app.test_client().post("/", data={"other": "1"})


def test_malformed_request_is_400_not_500(app: Erlen, client: t.Any) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.add_url_rule("/", "q", lambda: dict(request.args), methods=["GET", "POST"])
    app.add_url_rule("/j", "j", lambda: request.get_json(), methods=["POST"])
    assert client.get("/?a=%zz").status_code == 400
    assert client.get("/?a=%ff%fe").status_code == 400
    assert client.post("/j", data="{nope", content_type="application/json").status_code == 400
    assert client.post("/j", data="{}", content_type="text/plain").status_code == 415


def test_max_content_length_from_config(app: Erlen, client: t.Any) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10
    app.add_url_rule("/", "d", lambda: request.get_data(), methods=["POST"])
    rv = client.post("/", data=b"x" * 11)
    assert rv.status_code == 413
    assert b"MAX_CONTENT_LENGTH" in rv.data
    assert client.post("/", data=b"x" * 10).data == b"x" * 10


def test_max_form_parts_from_config(app: Erlen, client: t.Any) -> None:
    app.config["MAX_FORM_PARTS"] = 3
    app.add_url_rule("/", "f", lambda: str(len(request.form)), methods=["POST"])
    assert client.post("/", data={"a": "1", "b": "2", "c": "3"}).text == "3"
    rv = client.post("/", data={"a": "1", "b": "2", "c": "3", "d": "4"})
    assert rv.status_code == 413
    assert b"MAX_FORM_PARTS" in rv.data


# -- contexts ---------------------------------------------------------------------


def test_outside_context_errors() -> None:
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        request.method  # noqa: B018
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        current_app.name  # noqa: B018
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        g.x = 1
    assert not has_app_context()
    assert not has_request_context()


def test_app_context(app: Erlen) -> None:
    with app.app_context():
        assert current_app.name == app.name
        assert current_app._get_current_object() is app  # type: ignore[attr-defined]
        g.value = 1
        assert g.get("value") == 1
        assert "value" in g
        assert has_app_context() and not has_request_context()
        with pytest.raises(RuntimeError, match="request context"):
            request.path  # noqa: B018
    assert not has_app_context()


def test_request_context_shares_g_with_outer_app_context(app: Erlen) -> None:
    with app.app_context():
        g.x = "outer"
        with app.test_request_context("/path?a=1", method="POST"):
            assert g.x == "outer"
            assert request.path == "/path"
            assert request.args["a"] == "1"
            assert request.method == "POST"
            assert has_request_context()
        assert g.x == "outer"


def test_test_request_context_matches_url(app: Erlen) -> None:
    app.add_url_rule("/item/<int:n>", "item", lambda n: str(n))
    with app.test_request_context("/item/3"):
        assert request.endpoint == "item"
        assert request.view_args == {"n": 3}
        assert url_for("item", n=4) == "/item/4"
        assert url_for("item", n=4, _external=True) == "http://localhost/item/4"


def test_url_for_outside_request_needs_server_name(app: Erlen) -> None:
    app.add_url_rule("/x", "x", lambda: "x")
    with app.app_context():
        with pytest.raises(RuntimeError, match="SERVER_NAME"):
            url_for("x")
    app.config.update(SERVER_NAME="example.com", PREFERRED_URL_SCHEME="https")
    with app.app_context():
        assert url_for("x") == "https://example.com/x"


def test_proxies_are_thin_but_complete(app: Erlen) -> None:
    with app.test_request_context("/?a=1"):
        assert isinstance(request, erlen.Request)
        assert "a" in request.args
        assert repr(request).startswith("<Request")
        assert request == request._get_current_object()  # type: ignore[attr-defined]
        assert bool(request)


def test_proxy_forwards_every_name_it_does_not_have_itself(app: Erlen) -> None:
    # The proxies forward attribute access in __getattribute__: names of the
    # proxy class itself stay the proxy's, every other one is the target's.
    with app.test_request_context("/?a=1"):
        target = request._get_current_object()  # type: ignore[attr-defined]
        assert request.__dict__ is target.__dict__
        assert request.__wrapped__ is target  # type: ignore[attr-defined]
        assert request.__class__ is type(target)
        assert request.__doc__ == type(target).__doc__
        assert request.__annotations__ == type(target).__annotations__
        with pytest.raises(AttributeError, match="no_such_attribute"):
            request.no_such_attribute  # type: ignore[attr-defined]  # noqa: B018
        assert not hasattr(request, "no_such_attribute")
        g.x = 1
        assert g.x == 1 and getattr(g, "x") == 1  # noqa: B009
        del g.x
        assert not hasattr(g, "x")
    from erlen import session

    with pytest.raises(RuntimeError, match="Working outside of request context"):
        session.get("x")
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        request.args  # noqa: B018
    assert repr(request) == "<_Proxy unbound>"
    assert not request


def test_context_per_thread(app: Erlen) -> None:
    results: list[bool] = []
    with app.test_request_context("/"):
        thread = threading.Thread(target=lambda: results.append(has_request_context()))
        thread.start()
        thread.join(5)
    assert results == [False]


def test_copy_current_request_context(app: Erlen, client: t.Any) -> None:
    results: list[str] = []

    @app.route("/")
    def index() -> str:
        @copy_current_request_context
        def work() -> None:
            results.append(request.args["who"])

        thread = threading.Thread(target=work)
        thread.start()
        thread.join(5)
        return "ok"

    client.get("/?who=thread")
    assert results == ["thread"]


def test_after_this_request_outside_request() -> None:
    with pytest.raises(RuntimeError, match="after_this_request"):
        after_this_request(lambda r: r)


def test_with_client_keeps_request(app: Erlen) -> None:
    app.add_url_rule("/", "i", lambda: "x")
    with app.test_client() as c:
        c.get("/?q=kept")
        assert request.args["q"] == "kept"
    assert not has_request_context()


def test_stream_with_context(app: Erlen) -> None:
    torn_down: list[bool] = []
    app.teardown_request(lambda exc: torn_down.append(True))

    @app.route("/")
    def index() -> t.Any:
        def gen() -> t.Iterator[str]:
            yield request.args["a"]
            yield request.args["b"]

        return stream_with_context(gen())

    rv = app.test_client().get("/?a=1&b=2")
    assert rv.data == b"12"
    assert torn_down == [True]


# -- async views under WSGI --------------------------------------------------------


def test_async_view_and_hooks_under_wsgi(app: Erlen, client: t.Any) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    @app.before_request
    async def before() -> None:
        g.before = "async before"

    @app.route("/")
    async def index() -> str:
        await asyncio.sleep(0)
        loops.append(asyncio.get_running_loop())
        return f"{g.before} {request.args.get('n')}"

    assert client.get("/?n=1").text == "async before 1"
    assert client.get("/?n=2").text == "async before 2"
    # One persistent loop per thread, never a new one per request.
    assert loops[0] is loops[1]
    assert not loops[0].is_closed()


def test_async_error_handler(app: Erlen, client: t.Any) -> None:
    @app.errorhandler(ValueError)
    async def handle(e: ValueError) -> tuple[str, int]:
        return "handled", 422

    @app.route("/")
    async def index() -> str:
        raise ValueError

    rv = client.get("/")
    assert (rv.status_code, rv.text) == (422, "handled")


# -- WSGI -------------------------------------------------------------------------


def test_wsgi_middleware_wraps_wsgi_app(app: Erlen) -> None:
    app.add_url_rule("/", "i", lambda: "inner")
    inner = app.wsgi_app

    def middleware(environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        environ["PATH_INFO"] = "/"
        return inner(environ, start_response)

    app.wsgi_app = middleware  # type: ignore[method-assign]
    assert wsgi_call(app, "/anything")[2] == b"inner"


def test_script_name_mounting(app: Erlen) -> None:
    @app.route("/page")
    def page() -> str:
        return f"{request.script_root}|{request.path}|{url_for('page')}|{request.url}"

    status, _, body = wsgi_call(app, "/page", SCRIPT_NAME="/mount")
    assert status == "200 OK"
    assert body == b"/mount|/page|/mount/page|http://127.0.0.1/mount/page"


def test_wsgi_head_sends_no_body(app: Erlen) -> None:
    app.add_url_rule("/", "i", lambda: "content")
    status, headers, body = wsgi_call(app, "/", "HEAD")
    assert status == "200 OK"
    assert body == b""
    assert ("Content-Length", "7") in headers


def test_wsgi_response_closed(app: Erlen) -> None:
    closed: list[bool] = []

    @app.route("/")
    def index() -> Response:
        response = Response(iter([b"a", b"b"]))
        response.call_on_close(lambda: closed.append(True))
        return response

    assert wsgi_call(app)[2] == b"ab"
    assert closed == [True]


def test_wsgi_post_body_through_validator(app: Erlen) -> None:
    app.add_url_rule("/", "f", lambda: request.form["a"], methods=["POST"])
    body = b"a=hello"
    status, _, data = wsgi_call(
        app,
        "/",
        "POST",
        CONTENT_TYPE="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": io.BytesIO(body)},
    )
    assert (status, data) == ("200 OK", b"hello")


def test_config_defaults_and_attributes(app: Erlen) -> None:
    fresh = Erlen("fresh")
    assert fresh.config["MAX_FORM_MEMORY_SIZE"] == 500_000
    assert fresh.config["MAX_FORM_PARTS"] == 1000
    assert fresh.config["MAX_CONTENT_LENGTH"] is None
    assert fresh.config["APPLICATION_ROOT"] == "/"
    assert fresh.debug is False and fresh.testing is False
    fresh.debug = True
    assert fresh.config["DEBUG"] is True
    fresh.testing = True
    assert fresh.config["TESTING"] is True
    assert fresh.name == "fresh"


def test_debug_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_DEBUG", "1")
    assert Erlen("x").debug is True
    monkeypatch.setenv("ERLEN_DEBUG", "0")
    assert Erlen("x").debug is False
    monkeypatch.delenv("ERLEN_DEBUG")
    monkeypatch.setenv("FLASK_DEBUG", "true")
    assert Erlen("x").debug is True


def test_bad_request_is_a_key_error_and_400(app: Erlen) -> None:
    with app.test_request_context("/"):
        with pytest.raises(KeyError):
            request.args["missing"]
        with pytest.raises(BadRequest):
            request.args["missing"]


def test_overridden_dispatch_request_is_honoured() -> None:
    class Custom(Erlen):
        def dispatch_request(self) -> t.Any:
            return "overridden " + str(super().dispatch_request())

    app = Custom("custom")
    app.add_url_rule("/", "i", lambda: "view")
    assert app.test_client().get("/").text == "overridden view"


def test_open_resource_and_instance_resource(tmp_path: t.Any) -> None:
    (tmp_path / "schema.sql").write_text("create table x;")
    app = Erlen("res", root_path=str(tmp_path), instance_path=str(tmp_path / "instance"))
    with app.open_resource("schema.sql", "r") as f:
        assert f.read() == "create table x;"
    with pytest.raises(ValueError, match="only be opened for reading"):
        app.open_resource("schema.sql", "w")
    (tmp_path / "instance").mkdir()
    with app.open_instance_resource("notes.txt", "w") as f:
        f.write("kept")
    with app.open_instance_resource("notes.txt", "r") as f:
        assert f.read() == "kept"


def test_app_cli_and_runner(app: Erlen) -> None:
    from erlen.globals import current_app as cur

    @app.cli.command("hello")
    def hello() -> None:
        print(f"hello from {cur.name}")

    result = app.test_cli_runner().invoke(args=["hello"])
    assert result.exit_code == 0, result.output
    assert result.output == f"hello from {app.name}\n"


def test_got_request_exception_sent_once_when_propagating(app: Erlen) -> None:
    from erlen.signals import got_request_exception

    seen: list[BaseException] = []

    def record(sender: t.Any, exception: BaseException, **extra: t.Any) -> None:
        seen.append(exception)

    app.add_url_rule("/", "boom", lambda: 1 / 0)
    with got_request_exception.connected_to(record, app):
        with pytest.raises(ZeroDivisionError):
            app.test_client().get("/")
        app.config["PROPAGATE_EXCEPTIONS"] = False
        assert app.test_client().get("/").status_code == 500
    assert len(seen) == 2 and all(isinstance(e, ZeroDivisionError) for e in seen)


def test_overridden_full_dispatch_request_is_honoured() -> None:
    class Custom(Erlen):
        def full_dispatch_request(self) -> Response:
            response = super().full_dispatch_request()
            response.headers["X-Full"] = "yes"
            return response

        def process_response(self, response: Response) -> Response:
            response.headers["X-Processed"] = "yes"
            return super().process_response(response)

    app = Custom("custom")
    app.add_url_rule("/", "i", lambda: "view")
    rv = app.test_client().get("/")
    assert (rv.text, rv.headers["X-Full"], rv.headers["X-Processed"]) == ("view", "yes", "yes")


def test_request_and_response_classes_set_on_the_class_later_are_used() -> None:
    # COMPAT: Flask reads self.request_class on every request, so patching the
    # class (as tests of extensions do) reaches apps made before.
    class App(Erlen):
        pass

    app = App(__name__)
    app.route("/")(lambda: type(request._get_current_object()).__name__)  # type: ignore[attr-defined]
    made: list[type] = []

    @app.after_request
    def record(response: Response) -> Response:
        made.append(type(response))
        return response

    class MyRequest(erlen.Request):
        pass

    class MyResponse(Response):
        pass

    App.request_class = MyRequest
    App.response_class = MyResponse
    assert app.test_client().get("/").text == "MyRequest"
    assert made == [MyResponse]
