"""Blueprints through a real app and the test client (erlen.blueprints)."""

from __future__ import annotations

import os
import typing as t
from datetime import timedelta

import pytest

from erlen import Blueprint
from erlen import Erlen
from erlen import abort
from erlen import g
from erlen import request
from erlen import url_for
from erlen.blueprints import BlueprintSetupState
from erlen.http.exceptions import Forbidden
from erlen.http.exceptions import NotFound

FIXTURES = os.path.join(os.path.dirname(__file__), "blueprint_app")


def _needs_templating(app: Erlen) -> None:
    if not hasattr(app, "add_template_filter") or not hasattr(app, "jinja_env"):
        pytest.skip("the app has no TemplatingMixin yet (erlen.templating is not mixed in)")


# -- names -------------------------------------------------------------------------


def test_dotted_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'name' may not contain a dot"):
        Blueprint("app.ui", __name__)


def test_empty_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'name' may not be empty"):
        Blueprint("", __name__)


def test_dotted_endpoint_is_refused() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="'endpoint' may not contain a dot"):
        bp.add_url_rule("/a", endpoint="a.b", view_func=lambda: "")
    with pytest.raises(ValueError, match="'endpoint' may not contain a dot"):
        bp.route("/b", endpoint="b.c")(lambda: "")


def test_dotted_view_func_name_is_refused() -> None:
    bp = Blueprint("bp", __name__)

    def view() -> str:
        return ""

    view.__name__ = "bad.name"
    with pytest.raises(ValueError, match="'view_func' name may not contain a dot"):
        bp.add_url_rule("/a", view_func=view)


def test_dotted_endpoint_is_fine_on_the_app(app: Erlen, client: t.Any) -> None:
    app.add_url_rule("/x", endpoint="some.thing", view_func=lambda: request.endpoint)
    assert client.get("/x").data == b"some.thing"


def test_repr() -> None:
    assert repr(Blueprint("admin", __name__)) == "<Blueprint 'admin'>"


# -- routes, prefixes, endpoints -------------------------------------------------------


def test_routes_under_prefix_and_endpoint(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("admin", __name__, url_prefix="/admin")

    @bp.route("/")
    def index() -> str:
        return f"{request.endpoint} {request.blueprint} {request.blueprints}"

    @bp.get("/users/<int:uid>")
    def user(uid: int) -> str:
        return url_for(".user", uid=uid + 1)

    app.register_blueprint(bp)
    assert client.get("/admin/").data == b"admin.index admin ['admin']"
    assert client.get("/admin/users/1").data == b"/admin/users/2"
    assert client.post("/admin/users/1").status_code == 405
    assert app.blueprints == {"admin": bp}
    assert list(app.iter_blueprints()) == [bp]
    assert app.view_functions["admin.index"] is index


def test_register_option_overrides_prefix(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/own")
    bp.add_url_rule("/page", "page", lambda: "page")
    app.register_blueprint(bp, url_prefix="/given/")
    assert client.get("/given/page").data == b"page"
    assert client.get("/own/page").status_code == 404


def test_empty_rule_is_the_prefix(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("", "root", lambda: "root")
    app.register_blueprint(bp)
    assert client.get("/bp").data == b"root"


def test_request_blueprint_outside_blueprints(app: Erlen, client: t.Any) -> None:
    @app.route("/")
    def index() -> str:
        return f"{request.blueprint!r} {request.blueprints!r}"

    assert client.get("/").data == b"None []"


def test_url_for_absolute_and_relative(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("shop", __name__, url_prefix="/shop")

    @bp.route("/item/<name>")
    def item(name: str) -> str:
        return "item"

    @bp.route("/links")
    def links() -> str:
        return " ".join(
            [url_for(".item", name="a"), url_for("shop.item", name="b"), url_for("index")]
        )

    @app.route("/")
    def index() -> str:
        # Outside a blueprint, ".view" means the app's view.
        return url_for(".index") + " " + url_for("shop.item", name="c")

    app.register_blueprint(bp)
    assert client.get("/shop/links").data == b"/shop/item/a /shop/item/b /"
    assert client.get("/").data == b"/ /shop/item/c"


def test_endpoint_decorator_keeps_bare_name(app: Erlen, client: t.Any) -> None:
    # COMPAT: Flask keeps @bp.endpoint names unprefixed.
    app.add_url_rule("/foo", endpoint="bar")
    bp = Blueprint("bp", __name__)

    @bp.endpoint("bar")
    def foobar() -> str:
        return str(request.endpoint)

    app.register_blueprint(bp, url_prefix="/bp_prefix")
    assert client.get("/foo").data == b"bar"
    assert client.get("/bp_prefix/bar").status_code == 404


def test_methods_and_automatic_options(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__)
    bp.add_url_rule("/a", "a", lambda: "a", methods=["POST"])
    bp.add_url_rule("/b", "b", lambda: "b", provide_automatic_options=False)
    app.register_blueprint(bp)
    assert client.post("/a").data == b"a"
    assert client.get("/a").status_code == 405
    assert sorted(client.options("/a").allow) == ["OPTIONS", "POST"]
    assert client.options("/b").status_code == 405


# -- url_defaults ------------------------------------------------------------------


def test_url_defaults_of_blueprint_and_options(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("test", __name__, url_defaults={"lang": "en"})

    @bp.route("/foo", defaults={"baz": 42})
    def foo(lang: str, bar: int, baz: int) -> str:
        return f"{lang}/{bar}/{baz}"

    app.register_blueprint(bp, url_prefix="/1", url_defaults={"bar": 23})
    app.register_blueprint(bp, name="test2", url_prefix="/2", url_defaults={"bar": 19})
    assert client.get("/1/foo").data == b"en/23/42"
    assert client.get("/2/foo").data == b"en/19/42"


def test_url_value_preprocessor_and_url_defaults(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("lang", __name__, url_prefix="/<lang_code>")

    @bp.url_defaults
    def add_language_code(endpoint: str, values: dict[str, t.Any]) -> None:
        values.setdefault("lang_code", g.get("lang_code"))

    @bp.url_value_preprocessor
    def pull_lang_code(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        g.setdefault("lang_code", values.pop("lang_code"))  # type: ignore[union-attr]

    @bp.route("/")
    def index() -> str:
        return url_for(".about")

    @bp.route("/about")
    def about() -> str:
        return url_for(".index") + " " + str(g.get("lang_code"))

    app.register_blueprint(bp)
    assert client.get("/de/").data == b"/de/about"
    assert client.get("/fr/about").data == b"/fr/ fr"


def test_blueprint_url_defaults_do_not_apply_to_app(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__)
    seen: list[str] = []

    @bp.url_defaults
    def note(endpoint: str, values: dict[str, t.Any]) -> None:
        seen.append(endpoint)

    @bp.route("/bp")
    def bp_view() -> str:
        return "bp"

    @app.route("/")
    def index() -> str:
        return url_for("index") + url_for("bp.bp_view")

    app.register_blueprint(bp)
    assert client.get("/").data == b"//bp"
    assert seen == ["bp.bp_view"]


def test_app_url_processors(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("frontend", __name__)

    @bp.app_url_defaults
    def add_language_code(endpoint: str, values: dict[str, t.Any]) -> None:
        values.setdefault("lang_code", g.get("lang_code"))

    @bp.app_url_value_preprocessor
    def pull_lang_code(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        g.setdefault("lang_code", values.pop("lang_code"))  # type: ignore[union-attr]

    @app.route("/<lang_code>/")
    def index() -> str:
        return url_for("about")

    @app.route("/<lang_code>/about")
    def about() -> str:
        return url_for("index")

    app.register_blueprint(bp)
    assert client.get("/de/").data == b"/de/about"
    assert client.get("/de/about").data == b"/de/"


# -- subdomains --------------------------------------------------------------------


def _subdomain_app(app: Erlen) -> None:
    app.subdomain_matching = True
    app.config["SERVER_NAME"] = "example.test"


def test_subdomain(app: Erlen, client: t.Any) -> None:
    _subdomain_app(app)
    bp = Blueprint("api", __name__, subdomain="api")

    @bp.route("/")
    def index() -> str:
        return "api"

    @app.route("/")
    def home() -> str:
        return "home"

    app.register_blueprint(bp)
    assert client.get("/", base_url="http://api.example.test").data == b"api"
    assert client.get("/", base_url="http://example.test").data == b"home"
    assert client.get("/", base_url="http://other.example.test").status_code == 404
    with app.app_context():
        assert url_for("api.index") == "http://api.example.test/"


def test_subdomain_from_register_options(app: Erlen, client: t.Any) -> None:
    _subdomain_app(app)
    bp = Blueprint("bp", __name__, subdomain="ignored")
    bp.add_url_rule("/", "index", lambda: "given")
    app.register_blueprint(bp, subdomain="given")
    assert client.get("/", base_url="http://given.example.test").data == b"given"
    assert client.get("/", base_url="http://ignored.example.test").status_code == 404


def test_nested_subdomain_inherited(app: Erlen, client: t.Any) -> None:
    _subdomain_app(app)
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    child.add_url_rule("/child/", "index", lambda: "child")
    parent.register_blueprint(child)
    app.register_blueprint(parent, subdomain="api")
    assert client.get("/child/", base_url="http://api.example.test").data == b"child"
    assert client.get("/child/", base_url="http://example.test").status_code == 404


def test_child_and_parent_subdomains_join(app: Erlen, client: t.Any) -> None:
    _subdomain_app(app)
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__, subdomain="api")
    child.add_url_rule("/", "index", lambda: "child")
    parent.register_blueprint(child)
    app.register_blueprint(parent, subdomain="parent")
    assert client.get("/", base_url="http://api.parent.example.test").data == b"child"
    assert client.get("/", base_url="http://parent.example.test").status_code == 404
    with app.app_context():
        assert url_for("parent.child.index") == "http://api.parent.example.test/"


# -- nesting -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parent_init", "child_init", "parent_registration", "child_registration"),
    [
        ("/parent", "/child", None, None),
        ("/parent", None, None, "/child"),
        (None, None, "/parent", "/child"),
        ("/other", "/something", "/parent", "/child"),
    ],
)
def test_nesting_url_prefixes(
    app: Erlen,
    client: t.Any,
    parent_init: str | None,
    child_init: str | None,
    parent_registration: str | None,
    child_registration: str | None,
) -> None:
    parent = Blueprint("parent", __name__, url_prefix=parent_init)
    child = Blueprint("child", __name__, url_prefix=child_init)
    child.add_url_rule("/", "index", lambda: "child")
    parent.register_blueprint(child, url_prefix=child_registration)
    app.register_blueprint(parent, url_prefix=parent_registration)
    assert client.get("/parent/child/").data == b"child"


def test_nesting_prefix_only_on_parent(app: Erlen, client: t.Any) -> None:
    parent = Blueprint("parent", __name__, url_prefix="/parent")
    child = Blueprint("child", __name__)
    child.add_url_rule("/c", "c", lambda: "c")
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/parent/c").data == b"c"


def _three_levels(app: Erlen, calls: list[str]) -> None:
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    grandchild = Blueprint("grandchild", __name__)

    for scope in (app, parent, child, grandchild):
        label = "app" if scope is app else scope.name

        def before(label: str = label) -> None:
            calls.append(f"before {label}")

        def after(response: t.Any, label: str = label) -> t.Any:
            calls.append(f"after {label}")
            return response

        def teardown(exc: BaseException | None, label: str = label) -> None:
            calls.append(f"teardown {label}")

        scope.before_request(before)
        scope.after_request(after)
        scope.teardown_request(teardown)

    @parent.errorhandler(403)
    def parent_forbidden(e: Exception) -> tuple[str, int]:
        return "Parent no", 403

    @grandchild.errorhandler(403)
    def grandchild_forbidden(e: Exception) -> tuple[str, int]:
        return "Grandchild no", 403

    @app.errorhandler(403)
    def app_forbidden(e: Exception) -> tuple[str, int]:
        return "App no", 403

    @app.errorhandler(KeyError)
    def app_key_error(e: Exception) -> tuple[str, int]:
        return "App key", 500

    @child.errorhandler(LookupError)
    def child_lookup(e: Exception) -> tuple[str, int]:
        return "Child lookup", 500

    for bp in (parent, child, grandchild):

        def index(bp: Blueprint = bp) -> str:
            return f"{bp.name} yes {request.blueprint} {request.blueprints}"

        def no() -> str:
            abort(403)

        def key() -> str:
            raise KeyError("k")

        bp.add_url_rule("/", "index", index)
        bp.add_url_rule("/no", "no", no)
        bp.add_url_rule("/key", "key", key)

    @app.route("/no")
    def app_no() -> str:
        abort(403)

    child.register_blueprint(grandchild, url_prefix="/grandchild")
    parent.register_blueprint(child, url_prefix="/child")
    app.register_blueprint(parent, url_prefix="/parent")


def test_nested_three_levels(app: Erlen, client: t.Any) -> None:
    _three_levels(app, [])
    assert client.get("/parent/").data == b"parent yes parent ['parent']"
    assert client.get("/parent/child/").data == b"child yes parent.child ['parent.child', 'parent']"
    assert client.get("/parent/child/grandchild/").data == (
        b"grandchild yes parent.child.grandchild"
        b" ['parent.child.grandchild', 'parent.child', 'parent']"
    )
    assert set(app.blueprints) == {"parent", "parent.child", "parent.child.grandchild"}


def test_nested_hook_order(app: Erlen, client: t.Any) -> None:
    calls: list[str] = []
    _three_levels(app, calls)
    assert client.get("/parent/child/grandchild/").status_code == 200
    assert calls == [
        "before app",
        "before parent",
        "before child",
        "before grandchild",
        "after grandchild",
        "after child",
        "after parent",
        "after app",
        "teardown grandchild",
        "teardown child",
        "teardown parent",
        "teardown app",
    ]
    calls.clear()
    assert client.get("/parent/").status_code == 200
    assert calls == [
        "before app",
        "before parent",
        "after parent",
        "after app",
        "teardown parent",
        "teardown app",
    ]


def test_nested_error_handler_precedence(app: Erlen, client: t.Any) -> None:
    _three_levels(app, [])
    # The innermost blueprint with a handler wins, then its parents, then the app.
    assert client.get("/parent/child/grandchild/no").data == b"Grandchild no"
    assert client.get("/parent/child/no").data == b"Parent no"
    assert client.get("/parent/no").data == b"Parent no"
    assert client.get("/no").data == b"App no"
    # An exception class: the child's LookupError handler beats the app's
    # (more specific) KeyError handler, since blueprint scopes come first.
    assert client.get("/parent/child/grandchild/key").data == b"Child lookup"
    assert client.get("/parent/child/key").data == b"Child lookup"
    assert client.get("/parent/key").data == b"App key"


def test_register_on_itself_is_refused() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="Cannot register a blueprint on itself"):
        bp.register_blueprint(bp)


def test_nested_registered_twice_under_parent_names(app: Erlen, client: t.Any) -> None:
    child = Blueprint("child", __name__)
    child.add_url_rule("/", "index", lambda: str(request.blueprint))
    a = Blueprint("a", __name__, url_prefix="/a")
    b = Blueprint("b", __name__, url_prefix="/b")
    a.register_blueprint(child)
    b.register_blueprint(child)
    app.register_blueprint(a)
    app.register_blueprint(b)
    assert client.get("/a/").data == b"a.child"
    assert client.get("/b/").data == b"b.child"


# -- error handlers ----------------------------------------------------------------


@pytest.mark.parametrize("app_handler", [False, True])
def test_blueprint_404_handler_does_not_catch_routing_404(
    app: Erlen, client: t.Any, app_handler: bool
) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.errorhandler(404)
    def bp_not_found(e: Exception) -> tuple[str, int]:
        return "bp 404", 404

    @bp.route("/gone")
    def gone() -> str:
        abort(404)

    if app_handler:
        app.register_error_handler(404, lambda e: ("app 404", 404))
    app.register_blueprint(bp)
    assert client.get("/bp/gone").data == b"bp 404"
    # No endpoint matched, so no blueprint applies: the app's handler or the default.
    rv = client.get("/bp/missing")
    assert rv.status_code == 404
    if app_handler:
        assert rv.data == b"app 404"
    else:
        assert b"Not Found" in rv.data


def test_register_error_handler_and_exception_classes(app: Erlen, client: t.Any) -> None:
    class MyError(Exception):
        pass

    bp = Blueprint("bp", __name__)
    bp.register_error_handler(MyError, lambda e: ("bp handled", 418))
    bp.register_error_handler(Forbidden, lambda e: ("bp forbidden", 403))

    @bp.route("/boom")
    def boom() -> str:
        raise MyError()

    @bp.route("/forbidden")
    def forbidden() -> str:
        abort(403)

    @app.route("/boom")
    def app_boom() -> str:
        raise MyError()

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.register_blueprint(bp, url_prefix="/bp")
    rv = client.get("/bp/boom")
    assert (rv.status_code, rv.data) == (418, b"bp handled")
    assert client.get("/bp/forbidden").data == b"bp forbidden"
    assert client.get("/boom").status_code == 500


def test_errorhandler_refuses_unknown_code() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="not a recognized HTTP error code"):
        bp.errorhandler(999)(lambda e: "")


def test_app_errorhandler(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__)

    @bp.app_errorhandler(403)
    def forbidden(e: Exception) -> tuple[str, int]:
        return "app forbidden", 403

    @bp.app_errorhandler(NotFound)
    def not_found(e: Exception) -> tuple[str, int]:
        return "app not found", 404

    @app.route("/forbidden")
    def app_forbidden() -> str:
        abort(403)

    app.register_blueprint(bp)
    assert client.get("/forbidden").data == b"app forbidden"
    assert client.get("/nowhere").data == b"app not found"
    assert app.error_handler_spec[None][403][Forbidden] is forbidden


# -- hooks --------------------------------------------------------------------------


def test_blueprint_hooks_only_for_its_requests(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__)
    calls: list[str] = []

    @bp.before_request
    def before() -> None:
        calls.append("before")

    @bp.after_request
    def after(response: t.Any) -> t.Any:
        response.headers["X-Bp"] = "yes"
        return response

    @bp.teardown_request
    def teardown(exc: BaseException | None) -> None:
        calls.append("teardown")

    bp.add_url_rule("/bp", "view", lambda: "bp")
    app.add_url_rule("/app", "app_view", lambda: "app")
    app.register_blueprint(bp)

    rv = client.get("/app")
    assert "X-Bp" not in rv.headers
    assert calls == []
    rv = client.get("/bp")
    assert rv.headers["X-Bp"] == "yes"
    assert calls == ["before", "teardown"]


def test_async_blueprint_hooks_and_views(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__)

    @bp.before_request
    async def before() -> None:
        g.setdefault("seen", "before")

    @bp.after_request
    async def after(response: t.Any) -> t.Any:
        response.headers["X-After"] = "async"
        return response

    @bp.route("/")
    async def index() -> str:
        return str(g.get("seen"))

    app.register_blueprint(bp)
    rv = client.get("/")
    assert (rv.data, rv.headers["X-After"]) == (b"before", "async")


def test_before_request_can_answer(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__)
    bp.before_request(lambda: "stopped")
    bp.add_url_rule("/", "view", lambda: "view")
    app.register_blueprint(bp)
    assert client.get("/").data == b"stopped"


def test_app_request_hooks(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__)
    calls: list[str] = []

    @bp.before_app_request
    def before() -> None:
        calls.append("before")

    @bp.after_app_request
    def after(response: t.Any) -> t.Any:
        calls.append("after")
        return response

    @bp.teardown_app_request
    def teardown(exc: BaseException | None) -> None:
        calls.append("teardown")

    app.add_url_rule("/", "index", lambda: "index")
    bp.add_url_rule("/bp", "view", lambda: "bp")
    app.register_blueprint(bp)
    # Registered under another name too: the app-wide hooks still run once.
    app.register_blueprint(bp, name="again", url_prefix="/again")

    assert client.get("/").data == b"index"
    assert calls == ["before", "after", "teardown"]
    calls.clear()
    assert client.get("/again/bp").data == b"bp"
    assert calls == ["before", "after", "teardown"]
    calls.clear()
    assert client.get("/missing").status_code == 404
    assert calls == ["before", "after", "teardown"]


def test_registered_twice_hooks_apply_to_both_names(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__)

    @bp.after_request
    def after(response: t.Any) -> t.Any:
        response.headers["X-Bp"] = str(request.blueprint)
        return response

    bp.add_url_rule("/", "index", lambda: str(request.endpoint))
    app.register_blueprint(bp, url_prefix="/one")
    app.register_blueprint(bp, name="two", url_prefix="/two")
    one = client.get("/one/")
    two = client.get("/two/")
    assert (one.data, one.headers["X-Bp"]) == (b"bp.index", "bp")
    assert (two.data, two.headers["X-Bp"]) == (b"two.index", "two")
    assert set(app.blueprints) == {"bp", "two"}
    with app.test_request_context():
        assert url_for("bp.index") == "/one/"
        assert url_for("two.index") == "/two/"


def test_context_processor_registries(app: Erlen) -> None:
    bp = Blueprint("bp", __name__)

    def own() -> dict[str, t.Any]:
        return {"own": 1}

    def everywhere() -> dict[str, t.Any]:
        return {"everywhere": 1}

    bp.context_processor(own)
    bp.app_context_processor(everywhere)
    app.register_blueprint(bp)
    assert app.template_context_processors["bp"] == [own]
    assert everywhere in app.template_context_processors[None]


# -- registration ---------------------------------------------------------------------


def test_same_name_twice_is_refused(app: Erlen) -> None:
    bp = Blueprint("bp", __name__)
    bp2 = Blueprint("bp", __name__)
    app.register_blueprint(bp)
    with pytest.raises(ValueError, match="already registered for this blueprint"):
        app.register_blueprint(bp)
    app.register_blueprint(bp, name="again")
    with pytest.raises(ValueError) as info:
        app.register_blueprint(bp2)
    assert str(info.value) == (
        "The name 'bp' is already registered for a different blueprint."
        " Use 'name=' to provide a unique name."
    )
    app.register_blueprint(bp2, name="alt")
    assert app.blueprints == {"bp": bp, "again": bp, "alt": bp2}


def test_nested_name_clash_names_the_full_name(app: Erlen) -> None:
    parent = Blueprint("parent", __name__)
    parent.register_blueprint(Blueprint("child", __name__))
    parent.register_blueprint(Blueprint("child", __name__))
    with pytest.raises(ValueError) as info:
        app.register_blueprint(parent)
    assert str(info.value) == (
        "The name 'child' is already registered for a different blueprint"
        " 'parent.child'. Use 'name=' to provide a unique name."
    )


def test_setup_after_registration_is_refused(app: Erlen) -> None:
    bp = Blueprint("bp", __name__)
    app.register_blueprint(bp)
    with pytest.raises(AssertionError, match="can no longer be called on the blueprint 'bp'"):
        bp.route("/late")


def test_register_after_first_request_is_refused(app: Erlen, client: t.Any) -> None:
    client.get("/")
    with pytest.raises(AssertionError, match="'register_blueprint' can no longer be called"):
        app.register_blueprint(Blueprint("bp", __name__))


def test_one_blueprint_on_two_apps() -> None:
    bp = Blueprint("bp", __name__)
    bp.add_url_rule("/", "index", lambda: "index")
    for prefix in ("/x", "/y"):
        app = Erlen("app", root_path=FIXTURES)
        app.register_blueprint(bp, url_prefix=prefix)
        assert app.test_client().get(f"{prefix}/").data == b"index"


# -- record and record_once ---------------------------------------------------------


def test_record_and_record_once(app: Erlen) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp", subdomain="sub", url_defaults={"a": 1})
    states: list[BlueprintSetupState] = []
    once: list[str] = []
    bp.record(states.append)
    bp.record_once(lambda s: once.append(s.name))

    app.register_blueprint(bp, url_defaults={"b": 2})
    app.register_blueprint(bp, name="again", url_prefix="/again")
    assert once == ["bp"]
    first, second = states
    assert (first.app, first.blueprint, first.first_registration) == (app, bp, True)
    assert (first.name, first.name_prefix, first.url_prefix, first.subdomain) == (
        "bp",
        "",
        "/bp",
        "sub",
    )
    assert first.url_defaults == {"a": 1, "b": 2}
    assert first.options == {"url_defaults": {"b": 2}}
    assert (second.name, second.url_prefix, second.first_registration) == (
        "again",
        "/again",
        False,
    )
    assert second.url_defaults == {"a": 1}

    # On another app it is a first registration again.
    other = Erlen("other", root_path=FIXTURES)
    other.register_blueprint(bp)
    assert once == ["bp", "bp"]


def test_record_once_keeps_function_name() -> None:
    bp = Blueprint("bp", __name__)

    def setup(state: BlueprintSetupState) -> None:
        pass

    bp.record_once(setup)
    assert bp.deferred_functions[0].__name__ == "setup"


def test_setup_state_add_url_rule(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__, url_defaults={"x": "bp"})

    def register(state: BlueprintSetupState) -> None:
        state.add_url_rule("/extra/", view_func=extra, defaults={"y": "rule"})
        state.add_url_rule("", "prefix_only", lambda **kw: "prefix")

    def extra(x: str, y: str) -> str:
        return f"{x} {y} {request.endpoint}"

    bp.record(register)
    app.register_blueprint(bp, url_prefix="/p/")
    assert client.get("/p/extra/").data == b"bp rule bp.extra"
    assert client.get("/p/").data == b"prefix"


def test_make_setup_state_subclass(app: Erlen) -> None:
    class State(BlueprintSetupState):
        pass

    class MyBlueprint(Blueprint):
        def make_setup_state(
            self, app: Erlen, options: dict[str, t.Any], first_registration: bool = False
        ) -> BlueprintSetupState:
            return State(self, app, options, first_registration)

    bp = MyBlueprint("bp", __name__)
    seen: list[BlueprintSetupState] = []
    bp.record(seen.append)
    app.register_blueprint(bp)
    assert type(seen[0]) is State


# -- static files, templates, resources ------------------------------------------------


def _admin() -> Blueprint:
    return Blueprint(
        "admin",
        __name__,
        url_prefix="/admin",
        static_folder="static",
        template_folder="templates",
        root_path=FIXTURES,
    )


def test_static_files(app: Erlen, client: t.Any) -> None:
    bp = _admin()
    app.register_blueprint(bp)
    rv = client.get("/admin/static/test.txt")
    assert rv.status_code == 200
    assert rv.data.strip() == b"Admin static file."
    rv.close()
    rv = client.get("/admin/static/css/style.css")
    assert rv.mimetype == "text/css"
    rv.close()
    assert client.get("/admin/static/missing.txt").status_code == 404
    assert client.get("/admin/static/../test_blueprints.py").status_code == 404
    with app.test_request_context():
        assert url_for("admin.static", filename="test.txt") == "/admin/static/test.txt"
    assert bp.static_folder == os.path.join(FIXTURES, "static")


def test_static_url_path_and_max_age(app: Erlen, client: t.Any) -> None:
    bp = Blueprint(
        "files", __name__, static_folder="static/", static_url_path="/assets", root_path=FIXTURES
    )
    app.register_blueprint(bp, url_prefix="/f")
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = timedelta(hours=1)
    rv = client.get("/f/assets/test.txt")
    assert rv.cache_control.max_age == 3600
    rv.close()


def test_static_without_prefix_and_no_max_age(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("files", __name__, static_folder="static", root_path=FIXTURES)
    app.register_blueprint(bp)
    # The app's own /static route was added first and wins (the app has no
    # static folder here, so its route answers 404).
    assert client.get("/static/test.txt").status_code == 404
    with app.test_request_context():
        assert url_for("files.static", filename="test.txt") == "/static/test.txt"
        assert bp.get_send_file_max_age("test.txt") is None
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 60
        assert bp.get_send_file_max_age("test.txt") == 60


def test_no_static_folder_no_route(app: Erlen) -> None:
    bp = Blueprint("bp", __name__)
    app.register_blueprint(bp)
    assert "bp.static" not in app.view_functions
    with pytest.raises(RuntimeError, match="'static_folder' must be set"):
        bp.send_static_file("x")


def test_open_resource() -> None:
    bp = _admin()
    with bp.open_resource("static/test.txt") as f:
        assert f.read().strip() == b"Admin static file."
    with bp.open_resource("static/test.txt", "r") as f:
        assert f.read().strip() == "Admin static file."
    with pytest.raises(ValueError, match="only be opened for reading"):
        bp.open_resource("static/test.txt", "w")


def test_jinja_loader() -> None:
    bp = _admin()
    loader = bp.jinja_loader
    assert loader is not None
    assert "admin/index.html" in loader.list_templates()
    assert Blueprint("bare", __name__).jinja_loader is None


def test_templates_and_context_processors(app: Erlen, client: t.Any) -> None:
    _needs_templating(app)
    from erlen.templating import render_template
    from erlen.templating import render_template_string

    bp = _admin()

    @bp.context_processor
    def bp_names() -> dict[str, t.Any]:
        return {"name": "bp"}

    @bp.app_context_processor
    def app_names() -> dict[str, t.Any]:
        return {"name": "app", "everywhere": "yes"}

    @bp.route("/")
    def index() -> str:
        return render_template("admin/index.html")

    @app.route("/")
    def home() -> str:
        return render_template_string("{{ name }} {{ everywhere }}")

    app.register_blueprint(bp)
    assert client.get("/admin/").data.strip() == b"Hello from bp in admin"
    assert client.get("/").data == b"app yes"


def test_app_template_filter_test_global(app: Erlen) -> None:
    _needs_templating(app)
    from erlen.templating import render_template_string

    bp = Blueprint("bp", __name__)

    @bp.app_template_filter()
    def reverse(s: str) -> str:
        return s[::-1]

    @bp.app_template_filter("shout")
    def make_loud(s: str) -> str:
        return s.upper()

    @bp.app_template_test
    def boolean(value: t.Any) -> bool:
        return isinstance(value, bool)

    @bp.app_template_test("even")
    def is_even(n: int) -> bool:
        return n % 2 == 0

    @bp.app_template_global
    def answer() -> int:
        return 42

    bp.add_app_template_filter(lambda s: f"<{s}>", "angle")
    bp.add_app_template_test(lambda n: n > 10, name="big")
    bp.add_app_template_global(lambda: "hi", name="greet")

    app.register_blueprint(bp)
    env = app.jinja_env  # type: ignore[attr-defined]
    assert env.filters["reverse"] is reverse
    assert env.filters["shout"] is make_loud
    assert env.tests["boolean"] is boolean
    assert env.tests["even"] is is_even
    assert env.globals["answer"] is answer
    with app.app_context():
        rv = render_template_string(
            "{{ 'ab'|reverse }} {{ 'x'|shout }} {{ 'y'|angle }} {{ True is boolean }}"
            " {{ 4 is even }} {{ 11 is big }} {{ answer() }} {{ greet() }}"
        )
    assert rv == "ba X &lt;y&gt; True True True 42 hi"


# -- CLI ---------------------------------------------------------------------------------


def test_cli_group_is_stored() -> None:
    assert Blueprint("bp", __name__, cli_group=None).cli_group is None
    assert Blueprint("bp", __name__, cli_group="grp").cli_group == "grp"
    bp = Blueprint("bp", __name__)
    assert bp.cli.commands == {}


def test_cli_commands_join_the_app_group(app: Erlen) -> None:
    import click

    app_cli = click.Group("app")
    app.cli = app_cli  # type: ignore[attr-defined]

    def make(name: str, cli_group: t.Any = None, **kw: t.Any) -> Blueprint:
        bp = Blueprint(name, __name__, **kw)
        bp.cli.command("cmd")(lambda: None)
        return bp

    app.register_blueprint(make("named"))
    app.register_blueprint(make("flat", cli_group=None), cli_group=None)
    app.register_blueprint(make("custom"), cli_group="grp")
    assert set(app_cli.commands) == {"named", "cmd", "grp"}
    assert isinstance(app_cli.commands["named"], click.Group)
