"""Helpers through a real app: url_for edge cases, send_file, static files."""

from __future__ import annotations

import io
import os
import typing as t
from datetime import timedelta

import pytest

from erlen import Erlen
from erlen import send_file
from erlen import send_from_directory
from erlen import url_for
from erlen.routing import BuildError

STATIC_APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static_app")


@pytest.fixture
def static_app() -> Erlen:
    app = Erlen("static_app", root_path=STATIC_APP)
    app.testing = True
    return app


def test_url_for_outside_request_uses_application_root(app: Erlen) -> None:
    app.add_url_rule("/page/<int:n>", "page", lambda n: str(n))
    app.config.update(
        SERVER_NAME="example.com:8080", APPLICATION_ROOT="/root", PREFERRED_URL_SCHEME="https"
    )
    with app.app_context():
        assert url_for("page", n=2) == "https://example.com:8080/root/page/2"
        assert url_for("page", n=2, q="x y", _anchor="top") == (
            "https://example.com:8080/root/page/2?q=x+y#top"
        )


def test_url_for_scheme_needs_external(app: Erlen) -> None:
    app.add_url_rule("/p", "p", lambda: "p")
    with app.test_request_context():
        assert url_for("p", _scheme="https") == "https://localhost/p"
        with pytest.raises(ValueError, match="_external"):
            url_for("p", _scheme="https", _external=False)


def test_url_build_error_handlers(app: Erlen) -> None:
    def fallback(error: Exception, endpoint: str, values: dict[str, t.Any]) -> str | None:
        if endpoint == "elsewhere":
            return "https://other.example/" + str(values.get("x", ""))
        return None

    app.url_build_error_handlers.append(fallback)
    with app.test_request_context():
        assert url_for("elsewhere", x=1) == "https://other.example/1"
        with pytest.raises(BuildError, match="nowhere"):
            url_for("nowhere")


def test_static_route_and_max_age(static_app: Erlen) -> None:
    client = static_app.test_client()
    rv = client.get("/static/site.css")
    assert rv.status_code == 200
    assert rv.data == b"body { color: red; }\n"
    assert rv.mimetype == "text/css"
    assert "max-age" not in rv.headers.get("Cache-Control", "")
    rv.close()
    static_app.config["SEND_FILE_MAX_AGE_DEFAULT"] = timedelta(hours=1)
    rv = static_app.test_client().get("/static/site.css")
    assert "max-age=3600" in rv.headers["Cache-Control"]
    rv.close()


def test_static_route_refuses_traversal(static_app: Erlen) -> None:
    client = static_app.test_client()
    for path in ("/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt"):
        rv = client.get(path)
        assert rv.status_code == 404, path
        assert b"secret" not in rv.data


def test_static_conditional_and_range(static_app: Erlen) -> None:
    client = static_app.test_client()
    first = client.get("/static/site.css")
    etag = first.headers["ETag"]
    first.close()
    rv = client.get("/static/site.css", headers={"If-None-Match": etag})
    assert rv.status_code == 304
    assert rv.data == b""
    rv = client.get("/static/site.css", headers={"Range": "bytes=0-3"})
    assert rv.status_code == 206
    assert rv.data == b"body"
    assert rv.headers["Content-Range"] == "bytes 0-3/21"
    rv.close()
    rv = client.get("/static/site.css", headers={"Range": "bytes=100-200"})
    assert rv.status_code == 416


def test_send_file_and_send_from_directory(static_app: Erlen) -> None:
    @static_app.route("/download")
    def download() -> t.Any:
        return send_file(io.BytesIO(b"report"), download_name="résumé.txt", as_attachment=True)

    @static_app.route("/files/<path:name>")
    def files(name: str) -> t.Any:
        return send_from_directory(os.path.join(STATIC_APP, "static"), name)

    client = static_app.test_client()
    rv = client.get("/download")
    assert rv.data == b"report"
    disposition = rv.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9.txt" in disposition
    rv = client.get("/files/site.css")
    assert rv.status_code == 200
    rv.close()
    assert client.get("/files/../secret.txt").status_code == 404


def test_send_file_uses_the_servers_file_wrapper(static_app: Erlen) -> None:
    wrapped: list[t.Any] = []

    class FileWrapper:
        def __init__(self, file: t.Any, buffer_size: int = 8192) -> None:
            wrapped.append(file)
            self.file = file

        def __iter__(self) -> t.Iterator[bytes]:
            return iter([self.file.read()])

        def close(self) -> None:
            self.file.close()

    rv = static_app.test_client().get(
        "/static/site.css", environ_overrides={"wsgi.file_wrapper": FileWrapper}
    )
    assert rv.data == b"body { color: red; }\n"
    assert len(wrapped) == 1


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("range_header", [None, "bytes=0-3"])
def test_a_file_wrapper_that_is_a_function(
    static_app: Erlen, method: str, range_header: str | None
) -> None:
    # PEP 3333 asks only for a callable (uWSGI's is a builtin function) whose
    # result closes the file when it is closed.
    def file_wrapper(file: t.Any, block_size: int = 8192) -> t.Iterator[bytes]:
        wrapped.append(file)

        def chunks() -> t.Iterator[bytes]:
            try:
                while data := file.read(block_size):
                    yield data
            finally:
                file.close()

        return chunks()

    wrapped: list[t.Any] = []
    headers = {"Range": range_header} if range_header else {}
    rv = static_app.test_client().open(
        "/static/site.css",
        method=method,
        headers=headers,
        environ_overrides={"wsgi.file_wrapper": file_wrapper},
    )
    content = b"body { color: red; }\n"
    if range_header:
        assert rv.status_code == 206
        expected = content[:4]
    else:
        assert rv.status_code == 200
        expected = content
    assert rv.data == (b"" if method == "HEAD" else expected)
    # Only a whole file, sent with a body, goes through the server's wrapper.
    assert len(wrapped) == (1 if method == "GET" and not range_header else 0)
    rv.close()


def test_the_server_gets_its_own_file_wrapper_back(static_app: Erlen) -> None:
    # Servers use sendfile only for an instance of their wsgi.file_wrapper.
    from wsgiref.util import FileWrapper
    from wsgiref.util import setup_testing_defaults

    closed: list[bool] = []

    @static_app.get("/download")
    def download() -> t.Any:
        response = static_app.send_static_file("site.css")
        response.call_on_close(lambda: closed.append(True))
        return response

    environ: dict[str, t.Any] = {"PATH_INFO": "/download", "wsgi.file_wrapper": FileWrapper}
    setup_testing_defaults(environ)
    result = static_app(environ, lambda status, headers, exc_info=None: None)
    assert isinstance(result, FileWrapper)
    assert result.filelike.fileno() > 0  # what sendfile needs
    assert b"".join(result) == b"body { color: red; }\n"
    assert closed == []
    result.close()
    assert closed == [True]
