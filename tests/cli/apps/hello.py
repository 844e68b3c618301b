"""The smallest app: ``erlen --app hello``."""

from __future__ import annotations

from erlen import Erlen

app = Erlen(__name__)


@app.route("/")
def index() -> str:
    return "Hello from hello.py"


@app.route("/user/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int) -> str:
    return f"user {user_id}"
