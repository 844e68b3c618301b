"""What the benchmark apps share: data, the template folder, the session secret."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from _harness import SCENARIOS_BY_NAME
from _harness import WSGIApp
from _harness import build_environ
from _harness import call_once

TEMPLATES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
TEMPLATE_NAME = "list.html"
TITLE = "Items"
# The '&' checks that every framework autoescapes the HTML template.
ITEMS: list[dict[str, Any]] = [{"id": i, "name": f"Item {i} & co"} for i in range(10)]

SECRET_KEY = "benchmark-secret-key-not-for-production"
SESSION_COOKIE_NAME = "session"
SESSION_MAX_AGE = 31 * 24 * 3600  # Flask's default PERMANENT_SESSION_LIFETIME
ROUTE_COUNT = 100


@dataclass
class BenchApp:
    """A framework's app, ready to be called, and what it can't do (yet)."""

    framework: str
    wsgi: WSGIApp
    # Value appended to the Cookie header of the session_read scenario.
    session_cookie: str = ""
    # Scenario name -> why this framework doesn't take part in it.
    unsupported: dict[str, str] = field(default_factory=dict)
    # Scenario name -> why it can't be run although the framework claims it.
    failures: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def login_cookie(app: WSGIApp, path: str = "/login") -> str:
    """Get a session cookie the Flask way: let the app's own ``/login`` view set it.

    This works for any framework with Flask's session API, whatever its cookie
    format, so erlen is measured with a cookie erlen itself signed.
    """
    scenario = SCENARIOS_BY_NAME["hello"]
    environ = build_environ(scenario)
    environ["PATH_INFO"] = path
    response = call_once(app, environ)
    for name, value in response.headers:
        if name.lower() == "set-cookie" and value.startswith(SESSION_COOKIE_NAME + "="):
            return value.split(";", 1)[0]
    raise RuntimeError(
        f"GET {path} answered {response.status!r} without a {SESSION_COOKIE_NAME!r}"
        f" cookie; headers: {response.headers!r}"
    )


def session_serializer() -> Any:
    """An itsdangerous serializer signing cookies the way Flask's sessions do.

    Falcon and Bottle have no Flask-style session; their session_read view reads
    a cookie signed by this (HMAC-SHA1 with a derived key, salt "cookie-session",
    timestamped), which is the same verification work Flask does.
    """
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(
        SECRET_KEY,
        salt="cookie-session",
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def signed_session_cookie() -> str:
    """``session=<signed {"user": "alice"}>`` for the frameworks without sessions."""
    return f"{SESSION_COOKIE_NAME}={session_serializer().dumps({'user': 'alice'})}"
