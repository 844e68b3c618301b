"""The benchmark app for erlen: Flask's API, the same code as ``flask_app``.

Only the imports differ. Features erlen doesn't have yet (templates, sessions)
are imported optionally, and their scenarios are reported as "n/a" until then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from apps._common import ITEMS
from apps._common import ROUTE_COUNT
from apps._common import SECRET_KEY
from apps._common import TEMPLATE_NAME
from apps._common import TEMPLATES_DIR
from apps._common import TITLE
from apps._common import BenchApp
from apps._common import login_cookie
from erlen import Erlen
from erlen import jsonify
from erlen import request

if TYPE_CHECKING:
    from erlen import Response

render_template: Any
session: Any
try:
    from erlen import render_template
except ImportError:
    render_template = None
try:
    from erlen import session
except ImportError:
    session = None


def _numbered_view(i: int) -> Callable[[int], str]:
    def view(id: int) -> str:
        return f"r{i} {id}"

    return view


def create_app(sessions: bool = False) -> BenchApp:
    """The app; with ``sessions`` it has a SECRET_KEY (see benchmarks/README.md)."""
    app = Erlen(__name__, template_folder=TEMPLATES_DIR)
    if sessions:
        app.config["SECRET_KEY"] = SECRET_KEY
    bench = BenchApp("erlen", app)

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

    if render_template is None:
        bench.unsupported["template"] = "erlen has no render_template yet"
    else:

        @app.route("/template")
        def template() -> str:
            return render_template(TEMPLATE_NAME, title=TITLE, items=ITEMS)

    if session is None:
        bench.unsupported["session_read"] = "erlen has no session yet"
    else:

        @app.route("/login")
        def login() -> str:
            session["user"] = "alice"
            return "logged in"

        @app.route("/session")
        def session_read() -> str:
            return f"user={session['user']}"

        try:
            if sessions:
                bench.session_cookie = login_cookie(app)
        except Exception as exc:  # a broken session is a FAIL, not a crash
            bench.failures["session_read"] = f"could not log in: {exc}"

    return bench
