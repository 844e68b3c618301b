"""The benchmark app for Bottle: routes on a ``bottle.Bottle()`` instance.

The template scenario uses Bottle's own Jinja2 adapter (``bottle.jinja2_template``,
autoescaping on) so every framework renders the same Jinja2 file; session_read
verifies a cookie signed with itsdangerous exactly as Flask signs its session
cookie (Bottle's own signed cookies are pickle-based and a different format).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bottle
from bottle import request
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

# bottle.template caches compiled templates by id(lookup): keep one list.
TEMPLATE_LOOKUP = [TEMPLATES_DIR]
TEMPLATE_SETTINGS = {"autoescape": True}


def _numbered_view(i: int) -> Callable[[int], str]:
    def view(id: int) -> str:
        return f"r{i} {id}"

    return view


def create_app(sessions: bool = False) -> BenchApp:
    """The app; its session view always works (the key is a module constant)."""
    app = bottle.Bottle()
    serializer = session_serializer()

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    @app.get("/user/<id:int>")
    def user(id: int) -> dict[str, Any]:
        return {"id": id, "name": f"user{id}"}

    @app.get("/search")
    def search() -> str:
        q = request.query.get("q", "")
        page = request.query.get("page", 1, type=int)
        return f"q={q} page={page}"

    @app.post("/form")
    def form() -> str:
        return f"name={request.forms.get('name')} email={request.forms.get('email')}"

    @app.get("/cookie")
    def cookie() -> str:
        return f"session_id={request.get_cookie('session_id')}"

    for i in range(ROUTE_COUNT):
        app.route(f"/r{i}/<id:int>", callback=_numbered_view(i))

    @app.get("/template")
    def template() -> str:
        return bottle.jinja2_template(
            TEMPLATE_NAME,
            template_lookup=TEMPLATE_LOOKUP,
            template_settings=TEMPLATE_SETTINGS,
            title=TITLE,
            items=ITEMS,
        )

    @app.get("/session")
    def session_read() -> str:
        try:
            data = serializer.loads(
                request.get_cookie(SESSION_COOKIE_NAME, ""), max_age=SESSION_MAX_AGE
            )
        except BadSignature:
            data = {}
        return f"user={data['user']}"

    bench = BenchApp("bottle", app, session_cookie=signed_session_cookie())
    bench.notes.append(
        "template: Jinja2 via bottle.jinja2_template; session_read: itsdangerous-signed cookie"
    )
    return bench
