"""The tutorial blog (examples/blog) through the test client, one fresh database per test."""

from __future__ import annotations

import collections.abc as cabc
import importlib
import os
import sqlite3
import subprocess
import sys
import typing as t

import pytest

from erlen import Erlen
from erlen.security import generate_password_hash

BLOG_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "examples", "blog"
)
# Cheap hashes keep the tests fast; the app's default is scrypt.
FAST_HASH = "pbkdf2:sha256:1000"


def import_blog() -> t.Any:
    """The example's ``blog`` package, imported from examples/blog."""
    if BLOG_DIR not in sys.path:
        sys.path.insert(0, BLOG_DIR)
    return importlib.import_module("blog")


@pytest.fixture
def blog_app(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> Erlen:
    """The blog with a fresh database: users alice and bob, and one post by alice."""
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "instance"))
    blog = import_blog()
    app: Erlen = blog.create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "blog tests",
            "DATABASE": str(tmp_path / "blog.sqlite"),
            "PASSWORD_HASH_METHOD": FAST_HASH,
        }
    )
    from blog.db import get_db
    from blog.db import init_db

    with app.app_context():
        init_db()
        db = get_db()
        for name in ("alice", "bob"):
            db.execute(
                "INSERT INTO user (username, password) VALUES (?, ?)",
                (name, generate_password_hash(f"{name}-pw", FAST_HASH)),
            )
        db.execute(
            "INSERT INTO post (title, body, author_id, created)"
            " VALUES ('First post', 'Hello from alice', 1, '2024-05-06 07:08:09')"
        )
        db.commit()
    return app


@pytest.fixture
def blog_client(blog_app: Erlen) -> cabc.Iterator[t.Any]:
    with blog_app.test_client() as client:
        yield client


def query(app: Erlen, sql: str, *args: object) -> list[tuple[t.Any, ...]]:
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def login(client: t.Any, username: str = "alice", password: str | None = None) -> t.Any:
    return client.post(
        "/auth/login",
        data={"username": username, "password": password or f"{username}-pw"},
    )


# -- factory and database ------------------------------------------------------------


def test_config_defaults_and_instance_file(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "inst"
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(instance))
    blog = import_blog()
    app = blog.create_app()
    assert app.instance_path == str(instance)
    assert instance.is_dir()
    assert app.config["SECRET_KEY"] == "dev"
    assert app.config["DATABASE"] == str(instance / "blog.sqlite")
    assert not app.testing

    (instance / "config.py").write_text("SECRET_KEY = 'from the instance'\n")
    assert blog.create_app().config["SECRET_KEY"] == "from the instance"
    # A test config replaces the instance file.
    assert blog.create_app({"TESTING": True}).config["SECRET_KEY"] == "dev"


def test_db_connection_is_per_context_and_closed(blog_app: Erlen) -> None:
    from blog.db import get_db

    with blog_app.app_context():
        db = get_db()
        assert get_db() is db
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        db.execute("SELECT 1")


def test_init_db_entry_point(tmp_path: t.Any, subprocess_env: dict[str, str]) -> None:
    env = dict(subprocess_env, BLOG_INSTANCE_PATH=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "blog", "init-db"],
        cwd=BLOG_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Initialized the database" in proc.stdout
    conn = sqlite3.connect(tmp_path / "blog.sqlite")
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert {"user", "post"} <= tables


def test_init_db_cli_command(blog_app: Erlen) -> None:
    if not hasattr(blog_app, "cli"):
        pytest.skip("erlen has no app.cli yet")
    from click.testing import CliRunner

    from erlen.cli import ScriptInfo

    result = CliRunner().invoke(
        blog_app.cli, ["init-db"], obj=ScriptInfo(create_app=lambda: blog_app)
    )
    assert result.exit_code == 0, result.output
    assert "Initialized the database." in result.output
    assert query(blog_app, "SELECT count(*) FROM user") == [(0,)]


# -- register, login, logout ------------------------------------------------------------


def test_register(blog_client: t.Any, blog_app: Erlen) -> None:
    assert blog_client.get("/auth/register").status_code == 200
    response = blog_client.post("/auth/register", data={"username": "carol", "password": "pw"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login")
    [(stored,)] = query(blog_app, "SELECT password FROM user WHERE username = 'carol'")
    assert stored.startswith("pbkdf2:sha256:1000$")
    # The welcome message is flashed on the login page, once.
    assert "Welcome, carol. Please log in." in blog_client.get("/auth/login").text
    assert "Welcome, carol" not in blog_client.get("/auth/login").text


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "", "Username is required."),
        ("   ", "pw", "Username is required."),
        ("dave", "", "Password is required."),
        ("alice", "pw", "User alice is already registered."),
    ],
)
def test_register_validation(
    blog_client: t.Any, blog_app: Erlen, username: str, password: str, message: str
) -> None:
    response = blog_client.post("/auth/register", data={"username": username, "password": password})
    assert response.status_code == 200
    assert f'<p class="flash">{message}</p>' in response.text
    assert query(blog_app, "SELECT count(*) FROM user") == [(2,)]


def test_login_and_logout(blog_client: t.Any) -> None:
    assert blog_client.get("/auth/login").status_code == 200
    response = login(blog_client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with blog_client.session_transaction() as sess:
        assert sess["user_id"] == 1
    page = blog_client.get("/").text
    assert '<span class="user">alice</span>' in page
    assert "Log out" in page

    response = blog_client.get("/auth/logout")
    assert response.status_code == 302
    with blog_client.session_transaction() as sess:
        assert "user_id" not in sess
    page = blog_client.get("/").text
    assert "alice</span>" not in page
    assert "Log in" in page


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [("nobody", "x", "Incorrect username."), ("alice", "wrong", "Incorrect password.")],
)
def test_login_rejects(blog_client: t.Any, username: str, password: str, message: str) -> None:
    response = login(blog_client, username, password)
    assert response.status_code == 200
    assert message in response.text
    with blog_client.session_transaction() as sess:
        assert "user_id" not in sess


def test_session_transaction_logs_in(blog_client: t.Any) -> None:
    with blog_client.session_transaction() as sess:
        sess["user_id"] = 2
    page = blog_client.get("/").text
    assert '<span class="user">bob</span>' in page
    # bob sees alice's post but no edit link for it.
    assert "First post" in page
    assert "/1/update" not in page


# -- posts ------------------------------------------------------------------------------


def test_index_anonymous(blog_client: t.Any) -> None:
    response = blog_client.get("/")
    assert response.status_code == 200
    page = response.text
    assert "<h2>First post</h2>" in page
    assert "by alice on 2024-05-06" in page
    assert "Hello from alice" in page
    assert 'href="/auth/register"' in page
    assert 'href="/static/style.css"' in page
    assert "/create" not in page


def test_index_author_sees_edit_link(blog_client: t.Any) -> None:
    login(blog_client)
    page = blog_client.get("/").text
    assert 'href="/create"' in page
    assert 'href="/1/update"' in page


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/create"),
        ("POST", "/create"),
        ("GET", "/1/update"),
        ("POST", "/1/update"),
        ("POST", "/1/delete"),
    ],
)
def test_login_required(blog_client: t.Any, blog_app: Erlen, method: str, path: str) -> None:
    response = blog_client.open(path, method=method, data={"title": "x", "body": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login")
    assert query(blog_app, "SELECT title FROM post") == [("First post",)]


def test_other_author_is_forbidden(blog_client: t.Any, blog_app: Erlen) -> None:
    login(blog_client, "bob")
    assert blog_client.get("/1/update").status_code == 403
    assert blog_client.post("/1/update", data={"title": "mine", "body": ""}).status_code == 403
    assert blog_client.post("/1/delete").status_code == 403
    assert query(blog_app, "SELECT title FROM post") == [("First post",)]


@pytest.mark.parametrize(("method", "path"), [("GET", "/2/update"), ("POST", "/2/delete")])
def test_missing_post_is_404(blog_client: t.Any, method: str, path: str) -> None:
    login(blog_client)
    response = blog_client.open(path, method=method)
    assert response.status_code == 404
    assert "Post id 2 doesn&#x27;t exist." in response.text


def test_delete_only_accepts_post(blog_client: t.Any) -> None:
    login(blog_client)
    assert blog_client.get("/1/delete").status_code == 405


def test_create(blog_client: t.Any, blog_app: Erlen) -> None:
    login(blog_client, "bob")
    assert blog_client.get("/create").status_code == 200
    response = blog_client.post("/create", data={"title": "Second", "body": "by bob"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert query(blog_app, "SELECT title, body, author_id FROM post WHERE id = 2") == [
        ("Second", "by bob", 2)
    ]
    page = blog_client.get("/").text
    # Newest first.
    assert page.index("<h2>Second</h2>") < page.index("<h2>First post</h2>")


def test_update(blog_client: t.Any, blog_app: Erlen) -> None:
    login(blog_client)
    page = blog_client.get("/1/update").text
    assert 'value="First post"' in page
    assert 'action="/1/delete"' in page
    response = blog_client.post("/1/update", data={"title": "Edited", "body": "new body"})
    assert response.status_code == 302
    assert query(blog_app, "SELECT title, body FROM post WHERE id = 1") == [("Edited", "new body")]


@pytest.mark.parametrize("path", ["/create", "/1/update"])
def test_title_required(blog_client: t.Any, blog_app: Erlen, path: str) -> None:
    login(blog_client)
    response = blog_client.post(path, data={"title": "  ", "body": "kept"})
    assert response.status_code == 200
    assert "Title is required." in response.text
    assert ">kept</textarea>" in response.text
    assert query(blog_app, "SELECT title, body FROM post") == [("First post", "Hello from alice")]


def test_delete(blog_client: t.Any, blog_app: Erlen) -> None:
    login(blog_client)
    response = blog_client.post("/1/delete")
    assert response.status_code == 302
    assert query(blog_app, "SELECT count(*) FROM post") == [(0,)]
    page = blog_client.get("/").text
    assert "Post deleted." in page
    assert "Nothing here yet." in page


def test_post_content_is_escaped(blog_client: t.Any) -> None:
    login(blog_client)
    blog_client.post("/create", data={"title": "<b>bold</b>", "body": "<script>x</script>"})
    page = blog_client.get("/").text
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<script>x</script>" not in page


def test_static_stylesheet(blog_client: t.Any) -> None:
    response = blog_client.get("/static/style.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert b"--accent" in response.data
    response.close()
