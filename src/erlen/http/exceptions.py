"""HTTP errors as exceptions: each one is a status code plus a one-sentence description.

Raise one anywhere while handling a request (or call :func:`abort`) and the app turns
it into a response. The names and codes are Flask's (Werkzeug's), so ``except
NotFound`` and ``@app.errorhandler(404)`` port unchanged.
"""

from __future__ import annotations

import typing as t
from html import escape
from http import HTTPStatus

if t.TYPE_CHECKING:
    from .response import Response

#: Reason phrases by status code, from the standard library's registry.
HTTP_STATUS_CODES: dict[int, str] = {s.value: s.phrase for s in HTTPStatus}
# COMPAT: the phrases Werkzeug sends, whatever this Python calls them (3.13
# renamed 413, 414, 416 and 422 after RFC 9110), so a status line such as
# "413 REQUEST ENTITY TOO LARGE" is the same on every Python version.
HTTP_STATUS_CODES.update(
    {
        413: "Request Entity Too Large",
        414: "Request URI Too Long",
        416: "Requested Range Not Satisfiable",
        418: "I'm a teapot",
        422: "Unprocessable Entity",
    }
)


class HTTPException(Exception):
    """Base class of every HTTP error; a ``code`` and a ``description``.

    ``response`` may carry a ready-made response that is sent instead of the
    generated error page (``abort(Response(...))`` uses it).
    """

    code: int | None = None
    description: str | None = None

    def __init__(self, description: str | None = None, response: Response | None = None) -> None:
        super().__init__()
        if description is not None:
            self.description = description
        self.response = response

    @property
    def name(self) -> str:
        """The status reason phrase, such as ``"Not Found"``."""
        if self.code is None:
            return "Unknown Error"
        return HTTP_STATUS_CODES.get(self.code, "Unknown Error")

    def get_description(self) -> str:
        """The description as HTML-safe text for the error page."""
        return escape(self.description or "").replace("\n", "<br>")

    def get_body(self) -> str:
        """A small HTML page naming the error; never a traceback."""
        return (
            "<!doctype html>\n<html lang=en>\n"
            f"<title>{self.code} {escape(self.name)}</title>\n"
            f"<h1>{escape(self.name)}</h1>\n"
            f"<p>{self.get_description()}</p>\n"
        )

    def get_headers(self) -> list[tuple[str, str]]:
        """Headers of the generated error page."""
        return [("Content-Type", "text/html; charset=utf-8")]

    def get_response(self, environ: t.Any = None, scope: t.Any = None) -> Response:
        """The response to send for this error (``environ``/``scope`` are for compatibility)."""
        from .response import Response

        if self.response is not None:
            return self.response
        return Response(self.get_body(), self.code or 500, self.get_headers())

    def __str__(self) -> str:
        code = self.code if self.code is not None else "???"
        return f"{code} {self.name}: {self.description}"

    def __repr__(self) -> str:
        code = self.code if self.code is not None else "???"
        return f"<{type(self).__name__} '{code}: {self.name}'>"


class BadRequest(HTTPException):
    code = 400
    description = "The browser (or proxy) sent a request that this server could not understand."


class ClientDisconnected(BadRequest):
    """The client went away before the whole request body arrived."""

    description = "The client disconnected before the whole request body was received."


class SecurityError(BadRequest):
    """The request was refused for safety (for example an untrusted Host)."""


class BadHost(BadRequest):
    """The Host header is not one of the trusted hosts."""

    description = "The request's Host header is not trusted by this server."


class BadRequestKeyError(BadRequest, KeyError):
    """A missing key in request data (``request.form['x']``): a 400, and a ``KeyError``."""

    # COMPAT: Flask apps catch KeyError around request.form[...]; the app also
    # relies on this being a BadRequest so that an uncaught one is a 400.
    show_exception: bool = False

    def __init__(self, arg: str | None = None, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._key = arg
        if arg is not None:
            KeyError.__init__(self, arg)

    @property
    def description(self) -> str:
        base = BadRequest.description or ""
        if self.show_exception and self._key is not None:
            return f"{base}\nKeyError: {self._key!r}"
        return base

    @description.setter
    def description(self, value: str) -> None:
        pass  # the description is derived from the missing key

    def __str__(self) -> str:
        return HTTPException.__str__(self)


class Unauthorized(HTTPException):
    code = 401
    description = "The server could not verify that you are authorized to access the URL requested."

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        www_authenticate: t.Any = None,
    ) -> None:
        super().__init__(description, response)
        if www_authenticate is not None and not isinstance(www_authenticate, list | tuple):
            www_authenticate = [www_authenticate]
        self.www_authenticate: list[t.Any] = list(www_authenticate or ())

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        for value in self.www_authenticate:
            text = value.to_header() if hasattr(value, "to_header") else str(value)
            headers.append(("WWW-Authenticate", text))
        return headers


class Forbidden(HTTPException):
    code = 403
    description = "You don't have the permission to access the requested resource."


class NotFound(HTTPException):
    code = 404
    description = "The requested URL was not found on the server."


class MethodNotAllowed(HTTPException):
    """The URL exists, but not for this method; sends ``Allow``."""

    code = 405
    description = "The method is not allowed for the requested URL."

    def __init__(
        self,
        valid_methods: t.Iterable[str] | None = None,
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description, response)
        self.valid_methods = list(valid_methods) if valid_methods is not None else None

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        if self.valid_methods:
            headers.append(("Allow", ", ".join(self.valid_methods)))
        return headers


class NotAcceptable(HTTPException):
    code = 406
    description = "The resource is not available in a form the request's Accept headers allow."


class RequestTimeout(HTTPException):
    code = 408
    description = "The server closed the connection because the request took too long."


class Conflict(HTTPException):
    code = 409
    description = "The request conflicts with the current state of the target resource."


class Gone(HTTPException):
    code = 410
    description = "The requested URL is no longer available on this server."


class LengthRequired(HTTPException):
    code = 411
    description = "The request must say how long its body is (a Content-Length header)."


class PreconditionFailed(HTTPException):
    code = 412
    description = "A precondition in the request's headers did not hold on the server."


class RequestEntityTooLarge(HTTPException):
    code = 413
    description = "The request's data is larger than this server accepts."


class RequestURITooLarge(HTTPException):
    code = 414
    description = "The requested URL is longer than this server accepts."


class UnsupportedMediaType(HTTPException):
    code = 415
    description = "The server does not support the media type of the request's body."


class RequestedRangeNotSatisfiable(HTTPException):
    """The Range asked for lies outside the resource; sends ``Content-Range: */length``."""

    code = 416
    description = "The requested range cannot be served for this resource."

    def __init__(
        self,
        length: int | None = None,
        units: str = "bytes",
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description, response)
        self.length = length
        self.units = units

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        if self.length is not None:
            headers.append(("Content-Range", f"{self.units} */{self.length}"))
        return headers


class ExpectationFailed(HTTPException):
    code = 417
    description = "The server cannot meet what the request's Expect header asks for."


class ImATeapot(HTTPException):
    code = 418
    description = "This server is a teapot, not a coffee machine."


class UnprocessableEntity(HTTPException):
    code = 422
    description = "The request was well-formed but its content could not be processed."


class Locked(HTTPException):
    code = 423
    description = "The resource that is being accessed is locked."


class FailedDependency(HTTPException):
    code = 424
    description = "The request failed because an action it depends on failed."


class PreconditionRequired(HTTPException):
    code = 428
    description = "This request must be conditional, with an If-Match or If-Unmodified-Since."


class _RetryAfter(HTTPException):
    # Shared by 429 and 503: an optional Retry-After in seconds or as a date.
    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        retry_after: t.Any = None,
    ) -> None:
        super().__init__(description, response)
        self.retry_after = retry_after

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        value = self.retry_after
        if value is not None:
            if hasattr(value, "timetuple"):
                from .parsing import http_date

                value = http_date(value)
            headers.append(("Retry-After", str(value)))
        return headers


class TooManyRequests(_RetryAfter):
    code = 429
    description = "This user has sent too many requests in a given amount of time."


class RequestHeaderFieldsTooLarge(HTTPException):
    code = 431
    description = "One or more of the request's header fields is larger than the server allows."


class UnavailableForLegalReasons(HTTPException):
    code = 451
    description = "The resource is unavailable for legal reasons."


class InternalServerError(HTTPException):
    """The app failed; ``original_exception`` is the unhandled error, if any."""

    code = 500
    description = (
        "The server encountered an internal error and was unable to complete your request."
        " Either the server is overloaded or there is an error in the application."
    )

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        original_exception: BaseException | None = None,
    ) -> None:
        super().__init__(description, response)
        self.original_exception = original_exception


class NotImplemented(HTTPException):  # noqa: A001 - Werkzeug's name
    code = 501
    description = "The server does not support the action requested by the browser."


class BadGateway(HTTPException):
    code = 502
    description = "The proxy server received an invalid response from an upstream server."


class ServiceUnavailable(_RetryAfter):
    code = 503
    description = "The server is temporarily unable to service your request. Try again later."


class GatewayTimeout(HTTPException):
    code = 504
    description = "The connection to an upstream server timed out."


class HTTPVersionNotSupported(HTTPException):
    code = 505
    description = "The server does not support the HTTP protocol version used in the request."


#: Status code to exception class, for :func:`abort` and error handler lookup.
default_exceptions: dict[int, type[HTTPException]] = {}


def _register_defaults() -> None:
    todo: list[type[HTTPException]] = [HTTPException]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        code = cls.__dict__.get("code")
        if code is not None and code not in default_exceptions:
            default_exceptions[code] = cls


_register_defaults()


class Aborter:
    """Raise the HTTP exception for a status code, or a response as-is.

    ``extra`` adds or overrides codes; apps keep one as ``app.aborter``.
    """

    def __init__(
        self,
        mapping: dict[int, type[HTTPException]] | None = None,
        extra: dict[int, type[HTTPException]] | None = None,
    ) -> None:
        self.mapping = dict(default_exceptions if mapping is None else mapping)
        if extra:
            self.mapping.update(extra)

    def __call__(self, code: int | Response, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        if not isinstance(code, int):
            raise HTTPException(response=code)
        cls = self.mapping.get(code)
        if cls is None:
            raise LookupError(
                f"No exception for status code {code!r}. Pass a code that has one"
                " (see erlen.http.exceptions.default_exceptions) or register a class"
                " with Aborter(extra={code: MyException})."
            )
        raise cls(*args, **kwargs)


_aborter = Aborter()


def abort(status: int | Response, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    """Raise the :class:`HTTPException` for ``status`` (or send ``status`` if it is a response)."""
    _aborter(status, *args, **kwargs)
