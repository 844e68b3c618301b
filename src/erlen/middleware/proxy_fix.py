"""Trust ``X-Forwarded-*`` headers set by a known number of reverse proxies.

Behind nginx or a load balancer, the app sees the proxy's address, scheme and
host. :class:`ProxyFix` puts the client's values back into the WSGI environ, so
``request.remote_addr``, ``request.scheme``, ``request.host``, ``request.url`` and
external ``url_for`` describe what the client used.
"""

from __future__ import annotations

import collections.abc as cabc
import re
import typing as t

#: The environ key holding the values ProxyFix replaced, before it replaced them.
ORIG_KEY = "erlen.proxy_fix.orig"

_ORIG_NAMES = (
    "REMOTE_ADDR",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
)
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
# An address or an obfuscated identifier ("unknown", "_hidden"), IPv6 with brackets,
# a zone or a port: no spaces, quotes or control characters.
_FOR_RE = re.compile(r"[A-Za-z0-9._:%\[\]-]{1,255}")
# A host name or IPv4 address, or a bracketed IPv6 address, with an optional port.
_HOST_RE = re.compile(
    r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]{0,253})|\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9._-]+)?\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
_PORT_RE = re.compile(r"[0-9]{1,5}")
_PREFIX_RE = re.compile(r"/?[A-Za-z0-9._~!$&'()*+;=:@%/-]*")

Environ = dict[str, t.Any]
WSGIApp = cabc.Callable[[Environ, cabc.Callable[..., t.Any]], cabc.Iterable[bytes]]


def _valid_port(value: str) -> bool:
    return _PORT_RE.fullmatch(value) is not None and 0 < int(value) < 65536


class ProxyFix:
    """WSGI middleware applying ``X-Forwarded-For``, ``-Proto``, ``-Host``, ``-Port``
    and ``-Prefix`` from ``x_for``, ``x_proto``, ... trusted proxies.

    Each proxy appends to these headers, so the right-most values come from the
    proxies you run and the left-most from whoever sent the request. Set each
    argument to the number of proxies in front of the app that set that header
    (``0`` ignores it). The original environ values are kept in
    ``environ["erlen.proxy_fix.orig"]``::

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    Only use it when the app is reachable only through those proxies; otherwise a
    client can send the headers itself.
    """

    def __init__(
        self,
        app: WSGIApp,
        x_for: int = 1,
        x_proto: int = 1,
        x_host: int = 0,
        x_port: int = 0,
        x_prefix: int = 0,
    ) -> None:
        for name, value in (
            ("x_for", x_for),
            ("x_proto", x_proto),
            ("x_host", x_host),
            ("x_port", x_port),
            ("x_prefix", x_prefix),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(
                    f"ProxyFix({name}={value!r}) must be a whole number of trusted"
                    " proxies (0 to ignore the header)."
                )
        self.app = app
        self.x_for = x_for
        self.x_proto = x_proto
        self.x_host = x_host
        self.x_port = x_port
        self.x_prefix = x_prefix

    @staticmethod
    def _trusted_value(trusted: int, header: str | None) -> str | None:
        # The value the outermost trusted proxy appended, or None.
        if not trusted or not header:
            return None
        values = header.split(",")
        # SECURITY: fewer values than trusted proxies means one of them did not set the
        # header, so even the right-most value may be the client's: trust none.
        if len(values) < trusted:
            return None
        return values[-trusted].strip() or None

    def __call__(
        self, environ: Environ, start_response: cabc.Callable[..., t.Any]
    ) -> cabc.Iterable[bytes]:
        get = environ.get
        environ[ORIG_KEY] = {name: get(name) for name in _ORIG_NAMES}

        remote = self._trusted_value(self.x_for, get("HTTP_X_FORWARDED_FOR"))
        if remote is not None and _FOR_RE.fullmatch(remote):
            environ["REMOTE_ADDR"] = remote

        proto = self._trusted_value(self.x_proto, get("HTTP_X_FORWARDED_PROTO"))
        if proto is not None:
            proto = proto.lower()
            if proto in _DEFAULT_PORTS:  # SECURITY: anything else is ignored, not echoed
                environ["wsgi.url_scheme"] = proto

        host = self._trusted_value(self.x_host, get("HTTP_X_FORWARDED_HOST"))
        match = _HOST_RE.fullmatch(host) if host is not None else None
        if match is not None and (match["port"] is None or _valid_port(match["port"])):
            environ["HTTP_HOST"] = host
            environ["SERVER_NAME"] = match["name"]
            scheme = environ.get("wsgi.url_scheme", "http")
            # The public host's port, not the one the app server listens on.
            environ["SERVER_PORT"] = match["port"] or _DEFAULT_PORTS.get(scheme, "80")

        port = self._trusted_value(self.x_port, get("HTTP_X_FORWARDED_PORT"))
        if port is not None and _valid_port(port):
            current_match = _HOST_RE.fullmatch(environ.get("HTTP_HOST") or "")
            if current_match is not None:
                # An invalid Host is left for the request to reject, not rewritten.
                environ["HTTP_HOST"] = f"{current_match['name']}:{port}"
            environ["SERVER_PORT"] = port

        prefix = self._trusted_value(self.x_prefix, get("HTTP_X_FORWARDED_PREFIX"))
        if prefix is not None and _PREFIX_RE.fullmatch(prefix):
            prefix = prefix.rstrip("/")
            if prefix and not prefix.startswith("/"):
                prefix = "/" + prefix
            environ["SCRIPT_NAME"] = prefix

        return self.app(environ, start_response)
