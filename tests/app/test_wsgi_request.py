"""request_from_environ: the WSGI environ -> Request edge cases its fast paths must keep."""

from __future__ import annotations

import io
import typing as t

import pytest

from erlen.http.exceptions import ClientDisconnected
from erlen.http.request import Request
from erlen.wsgi import request_from_environ

BODY = b"name=alice&email=alice%40example.com&age=30&bio=hello+world"


def environ(body: bytes | None = None, **extra: t.Any) -> dict[str, t.Any]:
    env: dict[str, t.Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/form",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body or b""),
    }
    if body is not None:
        env["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        env["CONTENT_LENGTH"] = str(len(body))
    env.update(extra)
    return env


class ShortReads(io.RawIOBase):
    """A stream handing out at most ``step`` bytes per read, like a socket."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._step = step
        self.reads = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        n = self._step if size is None or size < 0 else min(size, self._step)
        chunk, self._data = self._data[:n], self._data[n:]
        return chunk


def test_environ_without_optional_keys() -> None:
    r = request_from_environ({"REQUEST_METHOD": "get"})
    assert r.method == "GET"
    assert r.scheme == "http"
    assert r.path == "/"
    assert r.root_path == ""
    assert r.query_string == b""
    assert r.remote_addr is None
    assert r.server == ("", None)
    assert r.input_stream.read() == b""
    assert r.form == {}


@pytest.mark.parametrize(
    "missing", ["REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_PORT"]
)
def test_environ_missing_one_key_keeps_the_others(missing: str) -> None:
    env = environ(REQUEST_METHOD="PUT", SCRIPT_NAME="/app", PATH_INFO="/p", QUERY_STRING="a=1")
    del env[missing]
    r = request_from_environ(env)
    assert r.method == ("GET" if missing == "REQUEST_METHOD" else "PUT")
    assert r.root_path == ("" if missing == "SCRIPT_NAME" else "/app")
    assert r.path == ("/" if missing == "PATH_INFO" else "/p")
    assert r.args.to_dict() == ({} if missing == "QUERY_STRING" else {"a": "1"})
    assert r.server == ("localhost", None if missing == "SERVER_PORT" else 8000)
    assert r.environ is env


def test_form_reads_exactly_the_declared_length() -> None:
    # The server's stream holds more than Content-Length: only the body is read.
    env = environ(BODY)
    env["wsgi.input"] = io.BytesIO(BODY + b"&extra=1")
    r = request_from_environ(env)
    assert r.form.to_dict() == {
        "name": "alice",
        "email": "alice@example.com",
        "age": "30",
        "bio": "hello world",
    }
    assert env["wsgi.input"].tell() == len(BODY)
    assert r.input_stream.read() == b""
    assert r.get_data() == b""


def test_form_body_in_short_reads() -> None:
    env = environ(BODY)
    stream = ShortReads(BODY + b"&extra=1", 7)
    env["wsgi.input"] = stream
    r = request_from_environ(env)
    assert r.form["bio"] == "hello world"
    assert "extra" not in r.form


def test_form_body_cut_short_is_a_client_disconnect() -> None:
    env = environ(BODY)
    env["wsgi.input"] = io.BytesIO(BODY[:10])
    r = request_from_environ(env)
    with pytest.raises(ClientDisconnected, match=f"{len(BODY) - 10} bytes"):
        r.form  # noqa: B018


def test_stream_is_cut_at_content_length_when_first_used() -> None:
    env = environ(b"abc", CONTENT_TYPE="application/octet-stream")
    env["wsgi.input"] = io.BytesIO(b"abcdef")
    r = request_from_environ(env)
    assert r.content_length == 3
    assert r.stream.read() == b"abc"
    assert r.get_data() == b""
    assert r.form == {}


def test_data_then_form_reuses_the_body() -> None:
    r = request_from_environ(environ(BODY))
    assert r.get_data() == BODY
    assert r.form["name"] == "alice"


def test_input_stream_set_by_hand_wins() -> None:
    r = request_from_environ(environ(BODY))
    r.input_stream = io.BytesIO(b"name=bob")
    assert r.form["name"] == "bob"


def test_chunked_with_content_length_takes_the_general_path() -> None:
    env = environ(BODY, HTTP_TRANSFER_ENCODING="chunked")
    r = request_from_environ(env)
    assert r.content_length is None
    assert r.form["age"] == "30"


def test_subclass_with_its_own_init_gets_the_cut_stream() -> None:
    seen: list[t.IO[bytes] | None] = []

    class Recording(Request):
        def __init__(self, *args: t.Any) -> None:
            seen.append(args[8])
            super().__init__(*args)

    env = environ(b"abc", CONTENT_TYPE="application/octet-stream")
    env["wsgi.input"] = io.BytesIO(b"abcdef")
    r = request_from_environ(env, Recording)
    assert seen[0] is not None and seen[0] is r.input_stream
    assert r.get_data() == b"abc"


def test_form_over_the_memory_limit_is_refused_before_reading() -> None:
    class Small(Request):
        max_form_memory_size = 10

    env = environ(BODY)
    r = request_from_environ(env, Small)
    with pytest.raises(Exception, match="MAX_FORM_MEMORY_SIZE") as info:
        r.form  # noqa: B018
    assert getattr(info.value, "code", None) == 413
    assert env["wsgi.input"].tell() == 0


def test_body_without_content_length_needs_input_terminated() -> None:
    env = environ(CONTENT_TYPE="application/octet-stream")
    env["wsgi.input"] = io.BytesIO(b"chunked body")
    assert request_from_environ(env).get_data() == b""
    env = environ(CONTENT_TYPE="application/octet-stream")
    env["wsgi.input"] = io.BytesIO(b"chunked body")
    env["wsgi.input_terminated"] = True
    assert request_from_environ(env).get_data() == b"chunked body"


@pytest.mark.parametrize(
    "length", ["", "abc", "-1", "1e3", "+3", "1_0", "\uff13", "\u0663", "1" * 20]
)
def test_invalid_or_empty_content_length(length: str) -> None:
    env = environ(CONTENT_TYPE="application/octet-stream", CONTENT_LENGTH=length)
    env["wsgi.input"] = io.BytesIO(b"abc")
    r = request_from_environ(env)
    assert r.content_length is None
    if length:
        with pytest.raises(Exception, match="Content-Length") as info:
            r.get_data()
        assert getattr(info.value, "code", None) == 400
    else:
        assert r.get_data() == b""


def test_body_headers_read_up_front_match_the_headers() -> None:
    r = request_from_environ(environ(BODY))
    assert r.content_type == r.headers.get("Content-Type") == "application/x-www-form-urlencoded"
    assert r.content_length == len(BODY)
    env = environ(b"abc", CONTENT_TYPE="")  # some servers always set it
    r = request_from_environ(env)
    assert r.content_type is None and r.headers.get("Content-Type") is None
    assert r.form == {}
    assert r.get_data() == b"abc"
    env = environ(b"abc")
    del env["CONTENT_TYPE"]
    assert request_from_environ(env).content_type is None


def test_subclass_body_attributes_are_not_hidden_by_the_adapter() -> None:
    from erlen.http._internal import cached_property

    class Own(Request):
        @cached_property
        def content_length(self) -> int | None:
            return 3

        @cached_property
        def content_type(self) -> str | None:
            return "application/octet-stream"

    r = request_from_environ(environ(BODY), Own)
    assert r.content_length == 3
    assert r.content_type == "application/octet-stream"
    assert r.form == {}


def test_form_limits_without_the_config_keys() -> None:
    from erlen import Erlen

    app = Erlen(__name__)
    for key in ("MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "MAX_FORM_PARTS"):
        del app.config[key]
    with app.test_request_context(
        "/", method="POST", data=BODY, content_type="application/x-www-form-urlencoded"
    ) as ctx:
        assert ctx.request._form_limits() == (None, 500_000, 1_000)
        assert ctx.request.form["bio"] == "hello world"
    app.config["MAX_FORM_PARTS"] = 3
    with app.test_request_context(
        "/", method="POST", data=BODY, content_type="application/x-www-form-urlencoded"
    ) as ctx:
        assert ctx.request._form_limits() == (None, 500_000, 3)
        with pytest.raises(Exception, match="more than 3 parts") as info:
            ctx.request.form  # noqa: B018
        assert getattr(info.value, "code", None) == 413


def test_files_after_a_form_read_directly() -> None:
    from erlen.http.datastructures import ImmutableMultiDict

    r = request_from_environ(environ(BODY))
    form = r.form
    assert "files" not in r.__dict__  # made when first asked for
    assert r.get_data(parse_form_data=True) == b""
    assert r.form is form and r.data == b""
    assert type(r.files) is ImmutableMultiDict and not r.files
    assert r.files is r.files
    r.close()
    other = request_from_environ(environ(BODY))
    other.form  # noqa: B018
    assert other.files is not r.files
    r = request_from_environ(environ(BODY))
    r.form  # noqa: B018
    r.close()  # no files asked for: nothing to close
    assert "files" not in r.__dict__


@pytest.mark.parametrize("read", ["get_data", "stream_read", "json"])
def test_whole_body_reads_gather_short_reads(read: str) -> None:
    body = b'{"text": "abcdefghijklmnopqrstuvwxyz"}'
    env = environ()
    env.update(
        {
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": ShortReads(body, 3),
        }
    )
    r = request_from_environ(env)
    if read == "get_data":
        assert r.get_data() == body
    elif read == "stream_read":
        assert r.stream.read() == body
    else:
        assert r.get_json() == {"text": "abcdefghijklmnopqrstuvwxyz"}


def test_a_whole_body_read_cut_short_is_a_disconnect() -> None:
    env = environ(BODY)
    env["wsgi.input"] = ShortReads(BODY[:10], 3)
    r = request_from_environ(env)
    with pytest.raises(ClientDisconnected):
        r.get_data()


def test_a_subclass_init_may_set_the_content_type() -> None:
    class Relabeling(Request):
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            super().__init__(*args, **kwargs)
            self.content_type = "application/x-www-form-urlencoded"

    env = environ(b"a=1")
    env["CONTENT_TYPE"] = "text/plain"
    r = request_from_environ(env, Relabeling)
    assert r.content_type == "application/x-www-form-urlencoded"
    assert r.form.to_dict() == {"a": "1"}


def test_a_whole_body_read_asks_the_server_stream_once_when_it_can() -> None:
    body = b"x" * 200_000
    stream = ShortReads(body, len(body))
    env = environ()
    env.update({"CONTENT_LENGTH": str(len(body)), "wsgi.input": stream})
    assert request_from_environ(env).get_data() == body
    assert stream.reads == 1
