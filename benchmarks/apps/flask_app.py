"""The benchmark app for Flask: the same code as ``erlen_app``, imported from flask."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from flask import session

from apps._common import ITEMS
from apps._common import ROUTE_COUNT
from apps._common import SECRET_KEY
from apps._common import TEMPLATE_NAME
from apps._common import TEMPLATES_DIR
from apps._common import TITLE
from apps._common import BenchApp
from apps._common import login_cookie

if TYPE_CHECKING:
    from flask import Response


def _numbered_view(i: int) -> Callable[[int], str]:
    def view(id: int) -> str:
        return f"r{i} {id}"

    return view


def create_app(sessions: bool = False) -> BenchApp:
    """The app; with ``sessions`` it has a SECRET_KEY (see benchmarks/README.md)."""
    app = Flask(__name__, template_folder=TEMPLATES_DIR)
    if sessions:
        app.config["SECRET_KEY"] = SECRET_KEY

    @app.route("/")
    def hello() -> str:
        return "Hello, World!"

    @app.route("/user/<int:id>")
    def user(id: int) -> Response:
        return jsonify({"id": id, "name": f"user{id}"})

    @app.route("/search")
    def search() -> str:
        q = request.args.get("q", "")
        page = request.args.get("page", 1, type=int)
        return f"q={q} page={page}"

    @app.route("/form", methods=["POST"])
    def form() -> str:
        return f"name={request.form['name']} email={request.form['email']}"

    @app.route("/cookie")
    def cookie() -> str:
        return f"session_id={request.cookies.get('session_id')}"

    for i in range(ROUTE_COUNT):
        app.add_url_rule(f"/r{i}/<int:id>", f"r{i}", _numbered_view(i))

    @app.route("/template")
    def template() -> str:
        return render_template(TEMPLATE_NAME, title=TITLE, items=ITEMS)

    @app.route("/login")
    def login() -> str:
        session["user"] = "alice"
        return "logged in"

    @app.route("/session")
    def session_read() -> str:
        return f"user={session['user']}"

    return BenchApp("flask", app, session_cookie=login_cookie(app) if sessions else "")
