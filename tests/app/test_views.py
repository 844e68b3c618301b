"""Tests for erlen.views: View and MethodView registered on a real app, sync and async."""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import io
import typing as t

import pytest

from erlen import Erlen
from erlen import request
from erlen.views import MethodView
from erlen.views import View
from erlen.views import http_method_funcs

Result = tuple[int, dict[str, str], bytes]


def call(app: Erlen, method: str, path: str) -> Result:
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    seen: dict[str, t.Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc: t.Any = None) -> None:
        seen["status"] = int(status.split()[0])
        seen["headers"] = dict(headers)

    iterable = app(environ, start_response)
    try:
        body = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    return seen["status"], seen["headers"], body


@pytest.fixture
def app() -> Erlen:
    app = Erlen("erlen_views_test")
    app.testing = True  # errors in views propagate to the test
    return app


# -- View ------------------------------------------------------------------------------


def test_view_dispatches_with_url_variables(app: Erlen) -> None:
    class Greet(View):
        def dispatch_request(self, **kwargs: t.Any) -> str:
            return f"hello {kwargs['name']} via {request.method}"

    app.add_url_rule("/hello/<name>", view_func=Greet.as_view("greet"))
    status, headers, body = call(app, "GET", "/hello/ada")
    assert (status, body) == (200, b"hello ada via GET")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert app.view_functions["greet"].view_class is Greet  # type: ignore[attr-defined]


def test_as_view_attributes(app: Erlen) -> None:
    class Documented(View):
        """The class docstring."""

        methods = ["GET", "POST"]
        provide_automatic_options = False

        def dispatch_request(self, **kwargs: t.Any) -> str:
            return "x"

    view = Documented.as_view("documented")
    assert view.__name__ == "documented"
    assert view.__doc__ == "The class docstring."
    assert view.__module__ == __name__
    assert view.view_class is Documented  # type: ignore[attr-defined]
    assert view.methods == ["GET", "POST"]  # type: ignore[attr-defined]
    assert view.provide_automatic_options is False  # type: ignore[attr-defined]


def test_view_methods_and_default_get(app: Erlen) -> None:
    class Default(View):
        def dispatch_request(self, **kwargs: t.Any) -> str:
            return request.method

    class Posting(View):
        methods = ["POST", "put"]

        def dispatch_request(self, **kwargs: t.Any) -> str:
            return request.method

    app.add_url_rule("/default", view_func=Default.as_view("default"))
    app.add_url_rule("/posting", view_func=Posting.as_view("posting"))
    assert call(app, "GET", "/default")[::2] == (200, b"GET")
    assert call(app, "POST", "/default")[0] == 405
    assert call(app, "POST", "/posting")[::2] == (200, b"POST")
    assert call(app, "PUT", "/posting")[::2] == (200, b"PUT")
    status, headers, _ = call(app, "GET", "/posting")
    assert status == 405
    assert headers["Allow"] == "OPTIONS, POST, PUT"


def test_provide_automatic_options_false(app: Erlen) -> None:
    class NoOptions(View):
        provide_automatic_options = False

        def dispatch_request(self, **kwargs: t.Any) -> str:
            return "ok"

    class WithOptions(View):
        def dispatch_request(self, **kwargs: t.Any) -> str:
            return "ok"

    app.add_url_rule("/no", view_func=NoOptions.as_view("no"))
    app.add_url_rule("/yes", view_func=WithOptions.as_view("yes"))
    assert call(app, "OPTIONS", "/no")[0] == 405
    status, headers, _ = call(app, "OPTIONS", "/yes")
    assert status == 200
    assert headers["Allow"] == "GET, HEAD, OPTIONS"


def test_class_args_and_new_instance_per_request(app: Erlen) -> None:
    instances: list[Counter] = []

    class Counter(View):
        def __init__(self, prefix: str, *, suffix: str) -> None:
            self.prefix = prefix
            self.suffix = suffix
            self.calls = 0
            instances.append(self)

        def dispatch_request(self, **kwargs: t.Any) -> str:
            self.calls += 1
            return f"{self.prefix}{self.calls}{self.suffix}"

    app.add_url_rule("/c", view_func=Counter.as_view("c", "<", suffix=">"))
    assert instances == []  # nothing built until a request arrives
    assert call(app, "GET", "/c")[2] == b"<1>"
    assert call(app, "GET", "/c")[2] == b"<1>"
    assert len(instances) == 2


def test_init_every_request_false_shares_one_instance(app: Erlen) -> None:
    instances: list[Shared] = []

    class Shared(View):
        init_every_request = False

        def __init__(self, start: int) -> None:
            self.calls = start
            instances.append(self)

        def dispatch_request(self, **kwargs: t.Any) -> str:
            self.calls += 1
            return str(self.calls)

    app.add_url_rule("/s", view_func=Shared.as_view("s", 10))
    assert len(instances) == 1  # built by as_view
    assert call(app, "GET", "/s")[2] == b"11"
    assert call(app, "GET", "/s")[2] == b"12"
    assert len(instances) == 1


def test_decorators_applied_in_order(app: Erlen) -> None:
    seen_names: list[str] = []

    def tag(label: str) -> cabc.Callable[[cabc.Callable[..., t.Any]], cabc.Callable[..., t.Any]]:
        def decorator(f: cabc.Callable[..., t.Any]) -> cabc.Callable[..., t.Any]:
            seen_names.append(f.__name__)

            def wrapper(**kwargs: t.Any) -> str:
                return f"{label}({f(**kwargs)})"

            return wrapper

        return decorator

    class Decorated(View):
        decorators = [tag("inner"), tag("outer")]

        def dispatch_request(self, **kwargs: t.Any) -> str:
            return "view"

    view = Decorated.as_view("decorated")
    assert seen_names == ["decorated", "wrapper"]
    assert view.__name__ == "decorated"
    assert view.view_class is Decorated  # type: ignore[attr-defined]
    app.add_url_rule("/d", view_func=view)
    assert call(app, "GET", "/d")[2] == b"outer(inner(view))"


def test_missing_dispatch_request_says_what_to_implement(app: Erlen) -> None:
    class Empty(View):
        pass

    app.add_url_rule("/e", view_func=Empty.as_view("e"))
    with pytest.raises(NotImplementedError, match=r"Empty must implement dispatch_request"):
        call(app, "GET", "/e")


def test_async_dispatch_request(app: Erlen) -> None:
    class AsyncView(View):
        async def dispatch_request(self, **kwargs: t.Any) -> str:
            await asyncio.sleep(0)
            return f"async {kwargs['n']} {request.path}"

    class AsyncShared(AsyncView):
        init_every_request = False

    app.add_url_rule("/a/<int:n>", view_func=AsyncView.as_view("a"))
    app.add_url_rule("/b/<int:n>", view_func=AsyncShared.as_view("b"))
    assert call(app, "GET", "/a/3")[::2] == (200, b"async 3 /a/3")
    assert call(app, "GET", "/b/4")[::2] == (200, b"async 4 /b/4")


def test_ensure_sync_is_the_seam(app: Erlen) -> None:
    calls: list[str] = []

    class Tracking(Erlen):
        def ensure_sync(self, func: cabc.Callable[..., t.Any]) -> cabc.Callable[..., t.Any]:
            calls.append(getattr(func, "__name__", "?"))
            return super().ensure_sync(func)

    tracking = Tracking("erlen_views_test")

    class Item(MethodView):
        async def get(self) -> str:
            return "item"

    tracking.add_url_rule("/i", view_func=Item.as_view("i"))
    assert call(tracking, "GET", "/i")[2] == b"item"
    assert "dispatch_request" in calls
    assert "get" in calls


# -- MethodView ------------------------------------------------------------------------


def test_methodview_derives_methods(app: Erlen) -> None:
    class Items(MethodView):
        def get(self) -> str:
            return "list"

        def post(self) -> str:
            return "created"

    class Nothing(MethodView):
        pass

    assert Items.methods == {"GET", "POST"}
    assert Nothing.methods is None
    assert MethodView.methods is None
    assert http_method_funcs >= {"get", "post", "put", "delete", "patch", "head", "options"}
    app.add_url_rule("/items", view_func=Items.as_view("items"))
    assert call(app, "GET", "/items")[::2] == (200, b"list")
    assert call(app, "POST", "/items")[::2] == (200, b"created")
    status, headers, _ = call(app, "DELETE", "/items")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_methodview_inherits_and_extends_methods(app: Erlen) -> None:
    class Base(MethodView):
        def get(self, id: int) -> str:
            return f"get {id}"

    class Mixin:
        def delete(self, id: int) -> str:
            return f"delete {id}"

    class Child(Mixin, Base):
        def put(self, id: int) -> str:
            return f"put {id}"

    assert Base.methods == {"GET"}
    assert Child.methods == {"GET", "PUT", "DELETE"}
    app.add_url_rule("/child/<int:id>", view_func=Child.as_view("child"))
    assert call(app, "GET", "/child/1")[2] == b"get 1"
    assert call(app, "PUT", "/child/2")[2] == b"put 2"
    assert call(app, "DELETE", "/child/3")[2] == b"delete 3"


def test_methodview_explicit_methods_respected(app: Erlen) -> None:
    class Limited(MethodView):
        methods = ["GET"]

        def get(self) -> str:
            return "get"

        def post(self) -> str:
            return "post"

    assert Limited.methods == ["GET"]
    app.add_url_rule("/limited", view_func=Limited.as_view("limited"))
    assert call(app, "POST", "/limited")[0] == 405


def test_methodview_head_falls_back_to_get(app: Erlen) -> None:
    class Page(MethodView):
        def get(self) -> str:
            return f"page via {request.method}"

    class PageWithHead(MethodView):
        def get(self) -> str:
            return "get body"

        def head(self) -> tuple[str, int, dict[str, str]]:
            return "", 204, {"X-Head": "own"}

    app.add_url_rule("/page", view_func=Page.as_view("page"))
    app.add_url_rule("/own", view_func=PageWithHead.as_view("own"))
    status, headers, body = call(app, "HEAD", "/page")
    assert status == 200
    assert body == b""
    assert headers["Content-Length"] == str(len(b"page via HEAD"))
    status, headers, _ = call(app, "HEAD", "/own")
    assert status == 204
    assert headers["X-Head"] == "own"


def test_methodview_own_options_handler(app: Erlen) -> None:
    class Cors(MethodView):
        def get(self) -> str:
            return "get"

        def options(self) -> tuple[str, int, dict[str, str]]:
            return "", 200, {"Allow": "GET", "X-Custom": "1"}

    assert Cors.methods == {"GET", "OPTIONS"}
    app.add_url_rule("/cors", view_func=Cors.as_view("cors"))
    status, headers, _ = call(app, "OPTIONS", "/cors")
    assert status == 200
    assert headers["X-Custom"] == "1"


def test_methodview_async_handlers(app: Erlen) -> None:
    class Mixed(MethodView):
        def get(self) -> str:
            return "sync get"

        async def post(self, key: str) -> str:
            await asyncio.sleep(0)
            return f"async post {key}"

        async def get_without_key(self) -> str:  # not a handler name: ignored
            return "never"

    class Mixed2(Mixed):
        async def get(self, key: str) -> str:  # type: ignore[override]
            return f"async get {key}"

    app.add_url_rule("/m/<key>", view_func=Mixed2.as_view("m"))
    assert Mixed2.methods == {"GET", "POST"}
    assert call(app, "GET", "/m/k")[2] == b"async get k"
    assert call(app, "POST", "/m/z")[2] == b"async post z"


def test_methodview_unimplemented_method(app: Erlen) -> None:
    class Partial(MethodView):
        methods = ["GET", "PUT"]

        def get(self) -> str:
            return "get"

    app.add_url_rule("/partial", view_func=Partial.as_view("partial"))
    with pytest.raises(AssertionError, match=r"^Unimplemented method 'PUT'$"):
        call(app, "PUT", "/partial")


def test_methodview_head_without_get_is_unimplemented(app: Erlen) -> None:
    class PostOnly(MethodView):
        methods = ["POST", "HEAD"]

        def post(self) -> str:
            return "post"

    app.add_url_rule("/post-only", view_func=PostOnly.as_view("post_only"))
    with pytest.raises(AssertionError, match="Unimplemented method 'HEAD'"):
        call(app, "HEAD", "/post-only")


def test_methodview_init_every_request_false(app: Erlen) -> None:
    class Counter(MethodView):
        init_every_request = False

        def __init__(self) -> None:
            self.hits = 0

        def get(self) -> str:
            self.hits += 1
            return str(self.hits)

    app.add_url_rule("/count", view_func=Counter.as_view("count"))
    assert call(app, "GET", "/count")[2] == b"1"
    assert call(app, "GET", "/count")[2] == b"2"


def test_endpoint_defaults_to_view_name(app: Erlen) -> None:
    class Named(MethodView):
        def get(self) -> str:
            return "n"

    app.add_url_rule("/named", view_func=Named.as_view("custom_name"))
    assert "custom_name" in app.view_functions
    with pytest.raises(AssertionError, match="overwriting an existing endpoint"):
        app.add_url_rule("/again", view_func=Named.as_view("custom_name"))
