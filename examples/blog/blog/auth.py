"""Accounts: register, log in, log out, and the ``login_required`` guard."""

from __future__ import annotations

import functools
import sqlite3
import typing as t

from erlen import Blueprint
from erlen import current_app
from erlen import flash
from erlen import g
from erlen import redirect
from erlen import render_template
from erlen import request
from erlen import session
from erlen import url_for
from erlen.security import check_password_hash
from erlen.security import generate_password_hash

from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")

_View = t.TypeVar("_View", bound=t.Callable[..., t.Any])


def login_required(view: _View) -> _View:
    """Send anonymous visitors to the login page instead of running ``view``."""

    @functools.wraps(view)
    def wrapped(**kwargs: t.Any) -> t.Any:
        if g.user is None:
            return redirect(url_for("auth.login"))
        return view(**kwargs)

    return t.cast(_View, wrapped)


@bp.before_app_request
def load_logged_in_user() -> None:
    """Put the session's user row (or None) on ``g.user`` for every request."""
    user_id = session.get("user_id")
    if user_id is None:
        g.user = None
    else:
        g.user = get_db().execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone()


@bp.route("/register", methods=("GET", "POST"))
def register() -> t.Any:
    """Create an account, then go to the login page."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        error = None
        if not username:
            error = "Username is required."
        elif not password:
            error = "Password is required."

        if error is None:
            pwhash = generate_password_hash(
                password, method=current_app.config["PASSWORD_HASH_METHOD"]
            )
            db = get_db()
            try:
                db.execute(
                    "INSERT INTO user (username, password) VALUES (?, ?)", (username, pwhash)
                )
                db.commit()
            except sqlite3.IntegrityError:
                error = f"User {username} is already registered."
            else:
                flash(f"Welcome, {username}. Please log in.")
                return redirect(url_for("auth.login"))

        flash(error)

    return render_template("auth/register.html")


@bp.route("/login", methods=("GET", "POST"))
def login() -> t.Any:
    """Check the credentials and remember the user in the session."""
    if request.method == "POST":
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        user = get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
        error = None
        if user is None:
            error = "Incorrect username."
        elif not check_password_hash(user["password"], password):
            error = "Incorrect password."

        if error is None:
            session.clear()
            session["user_id"] = user["id"]
            return redirect(url_for("index"))

        flash(error)

    return render_template("auth/login.html")


@bp.route("/logout")
def logout() -> t.Any:
    """Forget the user."""
    session.clear()
    return redirect(url_for("index"))
