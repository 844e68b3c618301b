"""JSON providers: how an app turns Python values into JSON and back.

``app.json`` is a provider; replace ``app.json_provider_class`` (or assign
``app.json``) to use another library, such as orjson.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import decimal
import json
import typing as t
import uuid
from datetime import date
from json.encoder import c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring
from json.encoder import encode_basestring_ascii

from ..http.parsing import http_date

if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..wrappers import Response


class JSONProvider:
    """The interface: ``dumps``, ``loads`` and ``response``; built on the stdlib by default."""

    def __init__(self, app: Erlen) -> None:
        # PERF: a plain reference, not a weakref proxy: the provider is read on
        # every JSON response (benchmarks/ path_json), and an app lives as long
        # as its provider anyway.
        self._app: Erlen = app

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` to a JSON string."""
        raise NotImplementedError

    def dump(self, obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
        """Serialize ``obj`` to a text file."""
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Deserialize a JSON string or bytes."""
        raise NotImplementedError

    def load(self, fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]) -> t.Any:
        if args and kwargs:
            raise TypeError("jsonify() behavior undefined when passed both args and kwargs")
        if not args and not kwargs:
            return None
        if len(args) == 1:
            return args[0]
        return args or kwargs

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """A response whose body is ``args`` or ``kwargs`` as JSON (what ``jsonify`` returns)."""
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(f"{self.dumps(obj)}\n", mimetype="application/json")


def _default(o: t.Any) -> t.Any:
    # COMPAT: the same types, in the same forms, as Flask's default provider.
    if isinstance(o, date):
        return http_date(o)
    if isinstance(o, decimal.Decimal | uuid.UUID):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "__html__"):
        return str(o.__html__())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class DefaultJSONProvider(JSONProvider):
    """The stdlib ``json`` provider, with Flask's extra types and options.

    Dates become HTTP dates; ``UUID`` and ``Decimal`` strings; dataclasses dicts;
    objects with ``__html__`` their markup.
    """

    default: t.Callable[[t.Any], t.Any] = staticmethod(_default)
    #: Replace non-ASCII characters with escapes.
    ensure_ascii = True
    #: Sort object keys, so output is stable (and cacheable).
    sort_keys = True
    #: ``None`` means compact unless the app is in debug mode.
    compact: bool | None = None
    mimetype = "application/json"
    _encoders: dict[tuple[t.Any, ...], cabc.Callable[[t.Any], str]] | None = None

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        return json.loads(s, **kwargs)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        obj = args[0] if len(args) == 1 and not kwargs else self._prepare_response_obj(args, kwargs)
        compact = self.compact
        pretty = compact is False or (compact is None and bool(self._app.config["DEBUG"]))
        if type(self).dumps is _default_dumps:
            # The encoder for the settings as they are now, so assigning one
            # (app.json.sort_keys = False) takes effect at the next response.
            # PERF: one per setting, made once: jsonify({"id": 5, "name":
            # "user5"}) 34.5k -> 24.1k instructions (benchmarks/ path_json).
            key = (pretty, self.default, self.ensure_ascii, self.sort_keys)
            cache = self._encoders
            if cache is None:
                cache = self._encoders = {}
            encode = cache.get(key)
            if encode is None:
                encode = cache[key] = _make_encoder(*key)
            text = encode(obj)
        elif pretty:
            text = self.dumps(obj, indent=2)
        else:
            text = self.dumps(obj, separators=(",", ":"))
        return self._app.response_class(f"{text}\n", mimetype=self.mimetype)


_default_dumps = DefaultJSONProvider.dumps


def _make_encoder(
    pretty: bool, default: cabc.Callable[[t.Any], t.Any], ensure_ascii: bool, sort_keys: bool
) -> cabc.Callable[[t.Any], str]:
    # What DefaultJSONProvider.dumps(obj, indent=2) or (obj, separators=(",", ":"))
    # returns, as a one-argument function.
    checked = json.JSONEncoder(
        default=default,
        ensure_ascii=ensure_ascii,
        sort_keys=sort_keys,
        indent=2 if pretty else None,
        separators=None if pretty else (",", ":"),
    )
    if pretty or c_make_encoder is None or default is not _default:
        # A default of the app's own may have side effects: it must not run
        # again at every level of a cycle (see below), so it gets the stdlib's
        # checking encoder, which stops at the first repeat.
        return checked.encode
    # PERF: the stdlib's C encoder, made once and called directly (a
    # JSONEncoder makes a new one per call, through two Python methods):
    # 15.3k -> 7.6k instructions for {"id": 5, "name": "user5"}. It is made
    # without circular-reference markers, so it keeps no state between calls
    # (thread-safe; an error leaves nothing behind). A cycle then ends in
    # RecursionError, and the checking encoder runs again to raise the usual
    # ValueError("Circular reference detected").
    fast = c_make_encoder(
        None,  # markers
        default,
        encode_basestring_ascii if ensure_ascii else encode_basestring,
        None,  # indent
        ":",
        ",",
        sort_keys,
        False,  # skipkeys
        True,  # allow_nan
    )
    join = "".join

    def encode(obj: t.Any) -> str:
        try:
            return join(fast(obj, 0))
        except RecursionError:
            return checked.encode(obj)

    return encode
