"""Tests for erlen.templating: rendering, context, autoescaping, loaders, reloading."""

from __future__ import annotations

import collections.abc as cabc
import logging
import os
import typing as t

import jinja2
import pytest
from markupsafe import Markup

from erlen import Erlen
from erlen import g
from erlen import request
from erlen import session
from erlen.flashing import flash
from erlen.json.provider import DefaultJSONProvider
from erlen.signals import before_render_template
from erlen.signals import template_rendered
from erlen.templating import DispatchingJinjaLoader
from erlen.templating import Environment
from erlen.templating import TemplatingMixin
from erlen.templating import get_template_attribute
from erlen.templating import render_template
from erlen.templating import render_template_string
from erlen.templating import select_jinja_autoescape
from erlen.templating import stream_template
from erlen.templating import stream_template_string

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templating_app")


App = Erlen


class FakeBlueprint:
    """Stands in for a blueprint: a name and a template loader."""

    def __init__(self, name: str, folder: str) -> None:
        self.name = name
        self.import_name = f"tests.{name}"
        self.jinja_loader = jinja2.FileSystemLoader(os.path.join(ROOT, folder))


def _add_fake_blueprint(app: App, name: str, folder: str) -> None:
    # What registering a blueprint does, as far as template lookup is concerned.
    blueprints: dict[str, t.Any] = app.blueprints
    blueprints[name] = FakeBlueprint(name, folder)


@pytest.fixture
def app() -> App:
    app = App("test_templating", root_path=ROOT)
    app.config.update(TESTING=True, SECRET_KEY="test key")
    return app


def _body(response: t.Any) -> str:
    return t.cast(str, response.get_data(as_text=True))


# -- rendering and autoescaping ------------------------------------------------------


def test_render_template_from_the_templates_folder(app: App, client: t.Any) -> None:
    @app.route("/")
    def index() -> str:
        return render_template("index.html", value="<b>bold</b>")

    assert _body(client.get("/")) == "<p>&lt;b&gt;bold&lt;/b&gt;</p>"


def test_txt_templates_are_not_escaped(app: App) -> None:
    with app.app_context():
        assert render_template("plain.txt", value="<b>") == "<b>"


def test_string_templates_are_escaped(app: App) -> None:
    with app.app_context():
        assert render_template_string("{{ v }}", v="<i>&") == "&lt;i&gt;&amp;"
        assert render_template_string("{{ v }}", v=Markup("<i>")) == "<i>"


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("a.html", True),
        ("a.htm", True),
        ("a.xml", True),
        ("a.xhtml", True),
        ("a.svg", True),
        (None, True),
        ("a.txt", False),
        ("a.js", False),
        ("html", False),
    ],
)
def test_select_jinja_autoescape(filename: str | None, expected: bool, app: App) -> None:
    assert select_jinja_autoescape(filename) is expected
    assert app.select_jinja_autoescape(filename) is expected


def test_render_a_list_uses_the_first_template_that_exists(app: App) -> None:
    with app.app_context():
        assert render_template(["missing.html", "plain.txt"], value="x") == "x"


def test_missing_template_raises_template_not_found(app: App) -> None:
    with app.app_context(), pytest.raises(jinja2.TemplateNotFound, match="nope.html"):
        render_template("nope.html")


def test_rendering_needs_an_app_context() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        render_template("index.html")
    with pytest.raises(RuntimeError, match="application context"):
        render_template_string("x")


def test_get_template_attribute(app: App) -> None:
    with app.app_context():
        hello = get_template_attribute("_macros.html", "hello")
        assert hello("World") == "Hello World!"
        assert get_template_attribute("_macros.html", "answer") == 42


def test_environment_is_created_once_with_options(app: App) -> None:
    app.jinja_options = {"trim_blocks": True}
    env = app.jinja_env
    assert isinstance(env, Environment)
    assert env.app is app
    assert env is app.jinja_env
    assert env.trim_blocks is True
    assert isinstance(env.loader, DispatchingJinjaLoader)
    # The class attribute default is untouched.
    assert TemplatingMixin.jinja_options == {}


def test_custom_environment_class_and_loader() -> None:
    class MyEnvironment(Environment):
        pass

    class MyApp(App):
        jinja_environment = MyEnvironment

        def create_global_jinja_loader(self) -> t.Any:
            return jinja2.DictLoader({"index.html": "Hello {{ who }}!"})

    app = MyApp("custom", root_path=ROOT)
    assert type(app.jinja_env) is MyEnvironment
    with app.app_context():
        assert render_template("index.html", who="<you>") == "Hello &lt;you&gt;!"


def test_jinja_options_can_choose_autoescape(app: App) -> None:
    app.jinja_options = {"autoescape": False}
    with app.app_context():
        assert render_template_string("{{ v }}", v="<i>") == "<i>"


# -- names every template sees --------------------------------------------------------


def test_request_session_g_config_url_for_flashes(app: App, client: t.Any) -> None:
    app.config["WORD"] = "bird"

    @app.route("/page/<name>")
    def page(name: str) -> str:
        session["user"] = "ada"
        g.answer = 42  # type: ignore[attr-defined]
        flash("hello")
        flash("again")
        return render_template("globals.html")

    lines = _body(client.get("/page/one")).splitlines()
    assert lines == [
        "path=/page/one",
        "user=ada",
        "g=42",
        "config=bird",
        "url=/page/x",
        "flashes=hello,again",
    ]


def test_app_context_only_gives_g_and_config(app: App) -> None:
    with app.app_context():
        g.answer = 7  # type: ignore[attr-defined]
        assert render_template_string("{{ g.answer }} {{ config.TESTING }}") == "7 True"
        context: dict[str, t.Any] = {}
        app.update_template_context(context)
        assert context == {"g": g._get_current_object()}  # type: ignore[attr-defined]


def test_default_context_has_the_real_request_and_g(app: App) -> None:
    with app.test_request_context("/x"):
        context: dict[str, t.Any] = {}
        app.update_template_context(context)
        assert context["request"] is request._get_current_object()  # type: ignore[attr-defined]
        assert context["g"] is g._get_current_object()  # type: ignore[attr-defined]
        context["session"]["k"] = "v"
        assert session["k"] == "v"


def test_session_unused_by_the_template_adds_no_vary(app: App, client: t.Any) -> None:
    @app.route("/plain")
    def plain() -> str:
        return render_template("index.html", value=1)

    @app.route("/uses")
    def uses() -> str:
        return render_template_string("{{ session.get('x') }}")

    assert "Cookie" not in client.get("/plain").headers.get("Vary", "")
    assert "Cookie" in client.get("/uses").headers.get("Vary", "")


# -- context processors ---------------------------------------------------------------


def test_context_processor_and_passed_values_win(app: App) -> None:
    @app.context_processor
    def extra() -> dict[str, t.Any]:
        return {"a": "processor", "b": "processor", "g": "processor g"}

    with app.test_request_context():
        out = render_template_string("{{ a }} {{ b }} {{ g }}", b="caller")
    assert out == "processor caller processor g"


def test_async_context_processor(app: App) -> None:
    @app.context_processor
    async def extra() -> dict[str, t.Any]:
        return {"a": "async"}

    with app.app_context():
        assert render_template_string("{{ a }}") == "async"


def test_blueprint_processors_apply_outermost_first(app: App, client: t.Any) -> None:
    def view() -> str:
        return render_template_string("{{ app }} {{ outer }} {{ both }}")

    app.add_url_rule("/nested", "outer.inner.view", view)
    app.add_url_rule("/other", "other.view", view)
    app.template_context_processors[None].append(lambda: {"app": "A", "both": "app"})
    app.template_context_processors["outer"].append(lambda: {"outer": "O", "both": "outer"})
    app.template_context_processors["outer.inner"].append(lambda: {"both": "inner"})

    assert _body(client.get("/nested")) == "A O inner"
    # Another blueprint's request doesn't see them.
    assert _body(client.get("/other")) == "A  app"


# -- filters, tests, globals ----------------------------------------------------------


def test_template_filter_bare_and_named(app: App) -> None:
    @app.template_filter
    def shout(s: str) -> str:
        return s.upper()

    @app.template_filter("rev")
    def backwards(s: str) -> str:
        return s[::-1]

    @app.template_filter()
    def twice(s: str) -> str:
        return s * 2

    app.add_template_filter(str.title, "title_case")
    assert "backwards" not in app.jinja_env.filters
    with app.app_context():
        out = render_template_string("{{ 'ab'|shout }} {{ 'ab'|rev }} {{ 'ab'|twice }}")
        assert out == "AB ba abab"
        assert render_template_string("{{ 'ab cd'|title_case }}") == "Ab Cd"


def test_template_test_bare_and_named(app: App) -> None:
    @app.template_test
    def boolean(value: t.Any) -> bool:
        return isinstance(value, bool)

    @app.template_test("even_length")
    def is_even_length(value: str) -> bool:
        return len(value) % 2 == 0

    app.add_template_test(lambda v: v == 3, "three")
    with app.app_context():
        source = "{{ x is boolean }} {{ 'ab' is even_length }} {{ 3 is three }}"
        assert render_template_string(source, x=False) == "True True True"


def test_template_global_bare_and_named(app: App) -> None:
    @app.template_global
    def double(x: int) -> int:
        return 2 * x

    @app.template_global("triple")
    def times_three(x: int) -> int:
        return 3 * x

    app.add_template_global(lambda: "pi", "name_of_pi")
    assert app.jinja_env.globals["double"] is double
    with app.app_context():
        assert render_template_string("{{ double(2) }} {{ triple(2) }} {{ name_of_pi() }}") == (
            "4 6 pi"
        )


def test_registration_after_the_first_request_is_refused(app: App, client: t.Any) -> None:
    @app.route("/")
    def index() -> str:
        return "ok"

    client.get("/")
    with pytest.raises(AssertionError, match="template_filter"):
        app.template_filter(str.upper)
    with pytest.raises(AssertionError, match="add_template_global"):
        app.add_template_global(str.upper)


# -- tojson ---------------------------------------------------------------------------


def test_tojson_is_html_safe(app: App) -> None:
    with app.app_context():
        out = render_template_string("{{ data|tojson }}", data={"b": "</script>&'", "a": 1})
    assert out == '{"a": 1, "b": "\\u003c/script\\u003e\\u0026\\u0027"}'
    assert app.jinja_env.policies["json.dumps_function"] == app.json.dumps


def test_tojson_in_an_attribute_and_with_indent(app: App) -> None:
    with app.app_context():
        attr = render_template_string("<a data-x='{{ v|tojson }}'>", v="it's")
        assert attr == "<a data-x='\"it\\u0027s\"'>"
        assert render_template_string("{{ [1]|tojson(indent=2) }}") == "[\n  1\n]"
        assert isinstance(app.jinja_env.filters["tojson"]("x"), Markup)


def test_tojson_uses_the_app_json_provider(app: App) -> None:
    class Provider(DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return '"custom<"'

    app.json = Provider(app)
    with app.app_context():
        assert render_template_string("{{ 1|tojson }}") == '"custom\\u003c"'


# -- streaming ------------------------------------------------------------------------


def test_stream_template_as_a_response_body(app: App, client: t.Any) -> None:
    @app.route("/stream")
    def stream() -> cabc.Iterator[str]:
        # The template reads `request` after the view has returned.
        return stream_template("stream.html", items=["a", "<b>"])

    assert _body(client.get("/stream")) == ("<li>a on /stream</li><li>&lt;b&gt; on /stream</li>")


def test_stream_template_yields_chunks_inside_a_request(app: App) -> None:
    with app.test_request_context("/s"):
        chunks = stream_template_string(
            "{% for i in items %}{{ i }}{{ request.path }}{% endfor %}", items=[1, 2]
        )
        assert isinstance(chunks, cabc.Iterator)
        assert list(chunks) == ["1", "/s", "2", "/s"]


def test_stream_template_in_an_app_context_only(app: App) -> None:
    with app.app_context():
        assert "".join(stream_template("plain.txt", value="<x>")) == "<x>"


# -- signals --------------------------------------------------------------------------


def test_signals_send_template_and_context(app: App) -> None:
    seen: list[tuple[str, t.Any, str | None, dict[str, t.Any]]] = []

    def before(sender: t.Any, template: jinja2.Template, context: dict[str, t.Any]) -> None:
        seen.append(("before", sender, template.name, dict(context)))

    def after(sender: t.Any, template: jinja2.Template, context: dict[str, t.Any]) -> None:
        seen.append(("after", sender, template.name, dict(context)))

    with (
        before_render_template.connected_to(before, app),
        template_rendered.connected_to(after, app),
    ):
        with app.test_request_context():
            render_template("index.html", value=1)
            assert [(w, s, n) for w, s, n, _ in seen] == [
                ("before", app, "index.html"),
                ("after", app, "index.html"),
            ]
            assert seen[0][3]["value"] == 1
            assert seen[1][3]["request"] is request._get_current_object()  # type: ignore[attr-defined]
            seen.clear()
            stream = stream_template_string("x{{ y }}", y=2)
            assert [w for w, *_ in seen] == ["before"]
            assert "".join(stream) == "x2"
            assert [(w, n) for w, _, n, _ in seen] == [("before", None), ("after", None)]
            assert seen[1][3]["y"] == 2


# -- auto reload ------------------------------------------------------------------------


def _tmp_app(tmp_path: t.Any, **config: t.Any) -> App:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.txt").write_text("one")
    app = App("reload_app", root_path=str(tmp_path))
    app.config.update(config)
    return app


def _rewrite(tmp_path: t.Any, text: str) -> None:
    path = tmp_path / "templates" / "page.txt"
    mtime = os.stat(path).st_mtime
    path.write_text(text)
    os.utime(path, (mtime + 10, mtime + 10))  # a newer mtime, whatever the clock's resolution


@pytest.mark.parametrize(
    ("config", "reloads"),
    [
        ({"TEMPLATES_AUTO_RELOAD": True}, True),
        ({"TEMPLATES_AUTO_RELOAD": False}, False),
        ({"TEMPLATES_AUTO_RELOAD": False, "DEBUG": True}, False),
        ({"TEMPLATES_AUTO_RELOAD": None, "DEBUG": True}, True),
        ({"TEMPLATES_AUTO_RELOAD": None, "DEBUG": False}, False),
    ],
)
def test_templates_auto_reload(tmp_path: t.Any, config: dict[str, t.Any], reloads: bool) -> None:
    app = _tmp_app(tmp_path, **config)
    assert app.templates_auto_reload is reloads
    with app.app_context():
        assert render_template("page.txt") == "one"
        _rewrite(tmp_path, "two")
        assert render_template("page.txt") == ("two" if reloads else "one")


def test_templates_auto_reload_setter_updates_the_environment(tmp_path: t.Any) -> None:
    app = _tmp_app(tmp_path, TEMPLATES_AUTO_RELOAD=False)
    with app.app_context():
        assert render_template("page.txt") == "one"
        app.templates_auto_reload = True
        assert app.config["TEMPLATES_AUTO_RELOAD"] is True
        assert app.jinja_env.auto_reload is True
        _rewrite(tmp_path, "two")
        assert render_template("page.txt") == "two"
    app.templates_auto_reload = None
    assert app.jinja_env.auto_reload is False  # follows debug mode, which is off


# -- lookup order ------------------------------------------------------------------


def test_app_templates_come_before_blueprint_templates(app: App) -> None:
    _add_fake_blueprint(app, "fake", "bp_templates")
    with app.app_context():
        assert render_template("shared.html") == "app version"
        assert render_template("bp_only.html", value=1) == "only in the blueprint: 1"


def test_blueprints_are_searched_in_registration_order(app: App) -> None:
    app.template_folder = None
    app.__dict__.pop("jinja_loader", None)
    _add_fake_blueprint(app, "first", "bp_templates")
    _add_fake_blueprint(app, "second", "templates")
    with app.app_context():
        assert render_template("shared.html") == "blueprint version"
        assert render_template("plain.txt", value=2) == "2"


def test_list_templates(app: App) -> None:
    _add_fake_blueprint(app, "fake", "bp_templates")
    names = app.jinja_env.list_templates()
    assert names == sorted(set(names))
    assert {"index.html", "shared.html", "bp_only.html", "plain.txt"} <= set(names)


def test_explain_template_loading_logs_attempts(app: App, caplog: pytest.LogCaptureFixture) -> None:
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    _add_fake_blueprint(app, "fake", "bp_templates")
    with app.app_context(), caplog.at_level(logging.INFO, logger=app.logger.name):
        assert render_template("bp_only.html", value=3) == "only in the blueprint: 3"
        with pytest.raises(jinja2.TemplateNotFound, match="absent.html"):
            render_template("absent.html")
        render_template("shared.html")
    found, missing, twice = (r.getMessage() for r in caplog.records)
    assert all(r.levelno == logging.INFO for r in caplog.records)
    assert "Locating template 'bp_only.html'" in found
    assert "1: trying loader of application 'test_templating'" in found
    assert "2: trying loader of blueprint 'fake' (tests.fake)" in found
    assert found.count("no match") == 1
    assert os.path.join("bp_templates", "bp_only.html") in found
    assert missing.count("no match") == 2
    assert "could not be found" in missing
    assert "more than one loader" in twice


def test_explain_hints_at_the_blueprint_of_the_view(
    app: App, client: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True

    def view() -> str:
        try:
            return render_template("page.html")
        except jinja2.TemplateNotFound as e:
            return f"missing {e.name}"

    app.add_url_rule("/bp", "shop.view", view)
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        assert _body(client.get("/bp")) == "missing page.html"
    assert "blueprint 'shop'" in caplog.records[0].getMessage()
    assert "'shop/page.html'" in caplog.records[0].getMessage()


def test_loader_without_explaining_logs_nothing(app: App, caplog: pytest.LogCaptureFixture) -> None:
    with app.app_context(), caplog.at_level(logging.INFO, logger=app.logger.name):
        render_template("index.html", value=1)
    assert caplog.records == []
