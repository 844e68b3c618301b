"""An app exercising the basics over a real server: text, JSON, forms, redirects, streams."""

from __future__ import annotations

import typing as t

from erlen import Erlen
from erlen import redirect
from erlen import request
from erlen import send_file
from erlen import url_for

app = Erlen(__name__)


@app.route("/")
def index() -> str:
    return "Hello from erlen"


@app.route("/user/<int:user_id>")
def user(user_id: int) -> dict[str, t.Any]:
    return {"id": user_id, "name": f"user{user_id}"}


@app.post("/form")
def form() -> str:
    return f"name={request.form['name']} email={request.form.get('email', '-')}"


@app.route("/old")
def old() -> t.Any:
    return redirect(url_for("index"))


@app.route("/only-post", methods=["POST"])
def only_post() -> str:
    return "posted"


@app.route("/stream")
def stream() -> t.Any:
    def generate() -> t.Iterator[str]:
        for i in range(5):
            yield f"chunk {i}\n"

    return generate()


@app.route("/source")
def source() -> t.Any:
    # A whole file: gunicorn sends it with its file wrapper (sendfile).
    return send_file(__file__, mimetype="text/plain")
