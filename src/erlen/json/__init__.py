"""JSON helpers that use the current app's JSON provider when there is one."""

from __future__ import annotations

import json as _json
import typing as t

from ..globals import _ctx_get
from .provider import _default

if t.TYPE_CHECKING:
    from ..wrappers import Response


def dumps(obj: t.Any, **kwargs: t.Any) -> str:
    """Serialize ``obj`` to JSON with the app's provider (``app.json.dumps``)."""
    ctx = _ctx_get(None)
    if ctx is not None:
        return ctx.app.json.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def dump(obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
    """Serialize ``obj`` to a text file."""
    fp.write(dumps(obj, **kwargs))


def loads(s: str | bytes, **kwargs: t.Any) -> t.Any:
    """Deserialize JSON with the app's provider (``app.json.loads``)."""
    ctx = _ctx_get(None)
    if ctx is not None:
        return ctx.app.json.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def load(fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
    """Deserialize JSON from a file."""
    return loads(fp.read(), **kwargs)


def jsonify(*args: t.Any, **kwargs: t.Any) -> Response:
    """A JSON response for the arguments (one value, several as a list, or keywords).

    Needs an app context; uses ``current_app.json.response``.
    """
    ctx = _ctx_get(None)
    if ctx is None:
        raise RuntimeError(
            "Working outside of application context: jsonify() needs the app's JSON"
            " provider. Call it in a view, or inside 'with app.app_context():'."
        )
    return ctx.app.json.response(*args, **kwargs)
