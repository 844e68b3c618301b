"""The benchmark app for Falcon: one resource class per route, ``falcon.App()``.

Falcon has no templates and no sessions: the template scenario renders the same
file with Jinja2 directly (autoescaping on, as Flask does for ``.html``), and
session_read verifies a cookie signed with itsdangerous exactly as Flask signs
its session cookie.
"""

from __future__ import annotations

import falcon
import jinja2
from itsdangerous import BadSignature

from apps._common import ITEMS
from apps._common import ROUTE_COUNT
from apps._common import SESSION_COOKIE_NAME
from apps._common import SESSION_MAX_AGE
from apps._common import TEMPLATE_NAME
from apps._common import TEMPLATES_DIR
from apps._common import TITLE
from apps._common import BenchApp
from apps._common import session_serializer
from apps._common import signed_session_cookie


class Hello:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class User:
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        resp.media = {"id": id, "name": f"user{id}"}


class Search:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        q = req.get_param("q", default="")
        page = req.get_param_as_int("page", default=1)
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"q={q} page={page}"


class Form:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.get_media()
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"name={form['name']} email={form['email']}"


class Cookie:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"session_id={req.cookies.get('session_id')}"


class Numbered:
    def __init__(self, i: int) -> None:
        self.i = i

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"r{self.i} {id}"


class Template:
    def __init__(self) -> None:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
            autoescape=jinja2.select_autoescape(),
        )
        self.template = env.get_template(TEMPLATE_NAME)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.template.render(title=TITLE, items=ITEMS)


class Session:
    def __init__(self) -> None:
        self.serializer = session_serializer()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            data = self.serializer.loads(
                req.cookies.get(SESSION_COOKIE_NAME, ""), max_age=SESSION_MAX_AGE
            )
        except BadSignature:
            data = {}
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"user={data['user']}"


def create_app(sessions: bool = False) -> BenchApp:
    """The app; its session view always works (the key is a module constant)."""
    app = falcon.App()
    app.add_route("/", Hello())
    app.add_route("/user/{id:int}", User())
    app.add_route("/search", Search())
    app.add_route("/form", Form())
    app.add_route("/cookie", Cookie())
    for i in range(ROUTE_COUNT):
        app.add_route(f"/r{i}/{{id:int}}", Numbered(i))
    app.add_route("/template", Template())
    app.add_route("/session", Session())
    bench = BenchApp("falcon", app, session_cookie=signed_session_cookie())
    bench.notes.append("template: Jinja2 used directly; session_read: itsdangerous-signed cookie")
    return bench
