"""Helpers a view uses: ``url_for``, ``redirect``, ``abort``, ``make_response``, files."""

from __future__ import annotations

import collections.abc as cabc
import os
import typing as t
from functools import update_wrapper

from .globals import _ctx_get
from .globals import current_app
from .globals import request
from .http import files as _files
from .http.exceptions import abort as _http_abort
from .http.response import redirect as _http_redirect
from .routing import BuildError

if t.TYPE_CHECKING:
    from .app import Erlen
    from .wrappers import Response

_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: t.Any,
) -> str:
    """The URL of ``endpoint``, with ``values`` filling its variables.

    Values the rule doesn't take become the query string. ``.view`` means the
    current blueprint's ``view``. Inside a request URLs are relative to the
    request's host; outside one ``SERVER_NAME`` must be set and they are external.
    """
    app = t.cast("Erlen", current_app._get_current_object())  # type: ignore[attr-defined]
    return _url_for(app, endpoint, _anchor, _method, _scheme, _external, values)


def _url_for(
    app: Erlen,
    endpoint: str,
    anchor: str | None,
    method: str | None,
    scheme: str | None,
    external: bool | None,
    values: dict[str, t.Any],
) -> str:
    ctx = _ctx_get(None)
    req = ctx.request if ctx is not None and ctx.app is app else None
    if req is not None:
        url_adapter = ctx.url_adapter  # type: ignore[union-attr]
        blueprint_name = req.blueprint
        if endpoint[:1] == ".":
            endpoint = f"{blueprint_name}{endpoint}" if blueprint_name else endpoint[1:]
        if external is None:
            external = scheme is not None
    else:
        url_adapter = (
            ctx.url_adapter if ctx is not None and ctx.app is app else app.create_url_adapter(None)
        )
        if url_adapter is None:
            raise RuntimeError(
                "Unable to build URLs outside an active request without 'SERVER_NAME'"
                " configured. Also configure 'APPLICATION_ROOT' and"
                " 'PREFERRED_URL_SCHEME' as needed."
            )
        if endpoint[:1] == ".":
            endpoint = endpoint[1:]
        if external is None:
            external = True
    if scheme is not None and not external:
        raise ValueError("When specifying '_scheme', '_external' must be True.")
    app.inject_url_defaults(endpoint, values)
    try:
        rv = url_adapter.build(  # type: ignore[union-attr]
            endpoint,
            values,
            method=method,
            url_scheme=scheme,
            force_external=external,
        )
    except BuildError as error:
        values.update(_anchor=anchor, _method=method, _scheme=scheme, _external=external)
        return app.handle_url_build_error(error, endpoint, values)
    if anchor is not None:
        from .http.parsing import url_quote

        rv = f"{rv}#{url_quote(anchor, safe=_ANCHOR_SAFE)}"
    return rv


def redirect(
    location: str,
    code: int = 302,
    Response: type[Response] | None = None,  # noqa: N803 - Flask's argument name
) -> Response:
    """A response redirecting to ``location`` (uses ``app.redirect`` inside an app context)."""
    ctx = _ctx_get(None)
    if ctx is not None and Response is None:
        return ctx.app.redirect(location, code=code)
    rv: t.Any = _http_redirect(location, code, Response=Response)
    return rv  # type: ignore[no-any-return]  # a Response (or the given class)


def abort(code: int | Response, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    """Raise the HTTP error for ``code`` (with ``app.aborter`` inside an app context)."""
    ctx = _ctx_get(None)
    if ctx is not None:
        ctx.app.aborter(code, *args, **kwargs)
    _http_abort(code, *args, **kwargs)


def make_response(*args: t.Any) -> Response:
    """A response object from a view-style return value, to set headers on it."""
    if not args:
        return current_app.response_class()
    if len(args) == 1:
        args = args[0]
    return current_app.make_response(args)


def send_file(
    path_or_file: os.PathLike[t.AnyStr] | str | t.BinaryIO,
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: t.Any = None,
    max_age: None | int | cabc.Callable[[str | None], int | None] = None,
) -> Response:
    """Send a file's contents; see :func:`erlen.http.files.send_file`."""
    app = current_app
    if max_age is None:
        max_age = app.get_send_file_max_age
    return t.cast(
        "Response",
        _files.send_file(
            path_or_file,  # type: ignore[arg-type]
            request._get_current_object(),  # type: ignore[attr-defined]
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            conditional=conditional,
            etag=etag,
            last_modified=last_modified,
            max_age=max_age,
            response_class=app.response_class,
        ),
    )


def send_from_directory(
    directory: os.PathLike[str] | str, path: os.PathLike[str] | str, **kwargs: t.Any
) -> Response:
    """Send ``path`` from inside ``directory``; anything outside it is a 404."""
    app = current_app
    kwargs.setdefault("max_age", app.get_send_file_max_age)
    kwargs.setdefault("response_class", app.response_class)
    return t.cast(
        "Response",
        _files.send_from_directory(
            os.fspath(directory),
            os.fspath(path),
            request._get_current_object(),  # type: ignore[attr-defined]
            **kwargs,
        ),
    )


def get_root_path(import_name: str) -> str:
    """The folder of the module or package ``import_name``."""
    from .scaffold import get_root_path as _get_root_path

    return _get_root_path(import_name)


def stream_with_context(
    generator_or_function: cabc.Iterator[t.AnyStr] | cabc.Callable[..., cabc.Iterator[t.AnyStr]],
) -> cabc.Iterator[t.AnyStr]:
    """Keep the request context active while a streamed response is generated."""
    try:
        gen = iter(generator_or_function)  # type: ignore[arg-type]
    except TypeError:
        func = t.cast("cabc.Callable[..., cabc.Iterator[t.AnyStr]]", generator_or_function)

        def decorator(*args: t.Any, **kwargs: t.Any) -> t.Any:
            return stream_with_context(func(*args, **kwargs))

        return update_wrapper(decorator, func)  # type: ignore[return-value]

    ctx = _ctx_get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(
            "'stream_with_context' can only be used when a request context is active,"
            " such as in a view function."
        )

    # COMPAT: as in Flask, the same context is pushed once more for the body.
    # The view's own pop then only drops that extra push, and the context (with
    # its teardown) really ends when the body is finished or closed.
    def generator() -> cabc.Iterator[t.AnyStr]:
        with ctx:
            yield None  # type: ignore[misc]  # primes the generator, see below
            try:
                yield from gen
            finally:
                if hasattr(gen, "close"):
                    gen.close()

    wrapped = generator()
    next(wrapped)  # push now, while the view's context is still active
    return wrapped
