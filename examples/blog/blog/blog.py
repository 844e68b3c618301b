"""Posts: everyone reads them; logged-in users write, and edit their own."""

from __future__ import annotations

import typing as t

from erlen import Blueprint
from erlen import abort
from erlen import flash
from erlen import g
from erlen import redirect
from erlen import render_template
from erlen import request
from erlen import url_for

from .auth import login_required
from .db import get_db

bp = Blueprint("blog", __name__)


@bp.route("/")
def index() -> str:
    """All posts, newest first."""
    posts = (
        get_db()
        .execute(
            "SELECT p.id, title, body, date(created) AS created_on, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id"
            " ORDER BY created DESC, p.id DESC"
        )
        .fetchall()
    )
    return render_template("blog/index.html", posts=posts)


def get_post(id: int, check_author: bool = True) -> t.Any:
    """The post ``id`` with its author; 404 if missing, 403 if not the current user's."""
    post = (
        get_db()
        .execute(
            "SELECT p.id, title, body, date(created) AS created_on, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id"
            " WHERE p.id = ?",
            (id,),
        )
        .fetchone()
    )
    if post is None:
        abort(404, f"Post id {id} doesn't exist.")
    if check_author and post["author_id"] != g.user["id"]:
        abort(403)
    return post


def _read_form() -> tuple[str, str, str | None]:
    title = request.form.get("title", "").strip()
    body = request.form.get("body", "")
    error = None if title else "Title is required."
    return title, body, error


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create() -> t.Any:
    """Write a new post."""
    if request.method == "POST":
        title, body, error = _read_form()
        if error is not None:
            flash(error)
        else:
            db = get_db()
            db.execute(
                "INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)",
                (title, body, g.user["id"]),
            )
            db.commit()
            return redirect(url_for("blog.index"))
    return render_template("blog/create.html")


@bp.route("/<int:id>/update", methods=("GET", "POST"))
@login_required
def update(id: int) -> t.Any:
    """Edit one of your posts."""
    post = get_post(id)
    if request.method == "POST":
        title, body, error = _read_form()
        if error is not None:
            flash(error)
        else:
            db = get_db()
            db.execute("UPDATE post SET title = ?, body = ? WHERE id = ?", (title, body, id))
            db.commit()
            return redirect(url_for("blog.index"))
    return render_template("blog/update.html", post=post)


@bp.route("/<int:id>/delete", methods=("POST",))
@login_required
def delete(id: int) -> t.Any:
    """Delete one of your posts."""
    get_post(id)
    db = get_db()
    db.execute("DELETE FROM post WHERE id = ?", (id,))
    db.commit()
    flash("Post deleted.")
    return redirect(url_for("blog.index"))
