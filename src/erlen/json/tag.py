"""Tagged JSON: JSON that keeps tuples, bytes, Markup, UUIDs and datetimes.

The session cookie stores Python values as JSON, which has no tuple, bytes or
date type. Such a value is written as a one-key object whose key is a tag
(``{" t": [1, 2]}`` for ``(1, 2)``) and turned back when read. A real dict
whose only key looks like a tag is escaped, so any value round-trips.

COMPAT: the tag keys are Flask's, so a cookie signed by a Flask app with the
same secret key reads the same here, which lets an app move over without
logging its users out.

Add a type by subclassing :class:`JSONTag` and calling
:meth:`TaggedJSONSerializer.register`::

    class TagOrderedDict(JSONTag):
        key = " od"

        def check(self, value): return isinstance(value, OrderedDict)
        def to_json(self, value): return [[k, self.serializer.tag(v)] for k, v in value.items()]
        def to_python(self, value): return OrderedDict(value)

    app.session_interface.serializer.register(TagOrderedDict, index=0)
"""

from __future__ import annotations

import json
import typing as t
from base64 import b64decode
from base64 import b64encode
from datetime import datetime
from uuid import UUID

from markupsafe import Markup

from ..http.parsing import http_date
from ..http.parsing import parse_date
from .provider import _default


def _require_str(value: t.Any, what: str) -> None:
    # Loading must fail with ValueError, not AttributeError, on a malformed payload.
    if not isinstance(value, str):
        raise ValueError(f"Tagged {what} {value!r} is not a string.")


class JSONTag:
    """One tagged type: how to recognise it, and how to turn it into JSON and back.

    Tags with an empty :attr:`key` are not written to the output; they only
    recurse into containers (such as lists) so their items get tagged.
    """

    __slots__ = ("serializer",)

    #: The key that marks a tagged value in the JSON; empty for pass-through tags.
    key: str = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: t.Any) -> bool:
        """Whether this tag handles ``value``."""
        raise NotImplementedError

    def to_json(self, value: t.Any) -> t.Any:
        """``value`` as JSON-compatible data (without the tag key)."""
        raise NotImplementedError

    def to_python(self, value: t.Any) -> t.Any:
        """The Python value back from what :meth:`to_json` produced."""
        raise NotImplementedError

    def tag(self, value: t.Any) -> t.Any:
        """``value`` as JSON data wrapped in this tag's key."""
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """Escapes a one-key dict whose key is a tag key, so it isn't read back as a tag.

    The key gets ``__`` appended inside a ``" di"`` tag, and loses it on load.
    """

    __slots__ = ()
    key = " di"

    def check(self, value: t.Any) -> bool:
        return (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in self.serializer.tags
        )

    def to_json(self, value: t.Any) -> t.Any:
        ((key, item),) = value.items()
        return {f"{key}__": self.serializer.tag(item)}

    def to_python(self, value: t.Any) -> t.Any:
        if not isinstance(value, dict) or len(value) != 1:
            raise ValueError(f"Tagged dict {value!r} is not a one-key object.")
        ((key, item),) = value.items()
        return {key[:-2]: item}


class PassDict(JSONTag):
    """Recurses into dicts so their values get tagged; not itself tagged."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        return isinstance(value, dict)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        # JSON object keys are strings; non-string keys become strings as in json.dumps.
        return {k: tag(v) for k, v in value.items()}

    tag = to_json


class TagTuple(JSONTag):
    """A tuple, as a list under ``" t"``."""

    __slots__ = ()
    key = " t"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, tuple)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    def to_python(self, value: t.Any) -> t.Any:
        if not isinstance(value, list):
            raise ValueError(f"Tagged tuple {value!r} is not a list.")
        return tuple(value)


class PassList(JSONTag):
    """Recurses into lists so their items get tagged; not itself tagged."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        return isinstance(value, list)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    tag = to_json


class TagBytes(JSONTag):
    """Bytes, as base64 text under ``" b"``."""

    __slots__ = ()
    key = " b"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, bytes)

    def to_json(self, value: t.Any) -> t.Any:
        return b64encode(value).decode("ascii")

    def to_python(self, value: t.Any) -> t.Any:
        # SECURITY: validate, so a malformed payload is an error rather than
        # silently dropped characters.
        _require_str(value, "bytes")
        return b64decode(value, validate=True)


class TagMarkup(JSONTag):
    """Anything with ``__html__`` (such as ``Markup``), as its HTML under ``" m"``.

    It comes back as :class:`~markupsafe.Markup`, so it stays marked safe.
    """

    __slots__ = ()
    key = " m"

    def check(self, value: t.Any) -> bool:
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: t.Any) -> t.Any:
        return str(value.__html__())

    def to_python(self, value: t.Any) -> t.Any:
        _require_str(value, "Markup")
        return Markup(value)


class TagUUID(JSONTag):
    """A UUID, as 32 hex digits under ``" u"``."""

    __slots__ = ()
    key = " u"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, UUID)

    def to_json(self, value: t.Any) -> t.Any:
        return value.hex

    def to_python(self, value: t.Any) -> t.Any:
        _require_str(value, "UUID")
        return UUID(value)


class TagDateTime(JSONTag):
    """A datetime, as an HTTP date under ``" d"``; read back as an aware UTC datetime.

    HTTP dates have whole seconds, so microseconds are dropped; a naive
    datetime is taken as UTC.
    """

    __slots__ = ()
    key = " d"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, datetime)

    def to_json(self, value: t.Any) -> t.Any:
        return http_date(value)

    def to_python(self, value: t.Any) -> t.Any:
        _require_str(value, "datetime")
        result = parse_date(value)
        if result is None:
            raise ValueError(f"Tagged datetime {value!r} is not an HTTP date.")
        return result


# Types that no default tag touches; tagging returns them as they are.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


class TaggedJSONSerializer:
    """Serializes values to tagged JSON and back; what the session cookie stores.

    Tags are tried in :attr:`order`; the first whose ``check`` passes wins.
    """

    __slots__ = ("tags", "order", "_plain_fast_path")

    #: The tag classes every serializer starts with, in checking order.
    default_tags: t.ClassVar[list[type[JSONTag]]] = [
        TagDict,
        PassDict,
        TagTuple,
        PassList,
        TagBytes,
        TagMarkup,
        TagUUID,
        TagDateTime,
    ]

    def __init__(self) -> None:
        #: Tags with a key, by key (what :meth:`untag` looks up).
        self.tags: dict[str, JSONTag] = {}
        #: Every tag, in the order :meth:`tag` checks them.
        self.order: list[JSONTag] = []
        self._plain_fast_path = True
        for cls in self.default_tags:
            self.register(cls)
        # Only the stock tags are known to leave str, int, float, bool and None alone.
        self._plain_fast_path = type(self).default_tags is TaggedJSONSerializer.default_tags

    def register(
        self, tag_class: type[JSONTag], force: bool = False, index: int | None = None
    ) -> None:
        """Add a tag type; checked last, or at ``index`` in :attr:`order`.

        :raises KeyError: another tag already uses the key and ``force`` is false.
        """
        tag = tag_class(self)
        key = tag.key
        if key:
            if not force and key in self.tags:
                raise KeyError(
                    f"Tag {key!r} is already registered by {type(self.tags[key]).__name__}."
                    " Choose another key, or pass force=True to replace it."
                )
            self.tags[key] = tag
        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)
        # A custom tag may claim str or int subclasses' exact types; check everything.
        self._plain_fast_path = False

    def tag(self, value: t.Any) -> t.Any:
        """``value`` as JSON-compatible data, with tags where needed."""
        # PERF: session values are mostly strings and numbers; skip the tag loop
        # for them while only the default tags are registered.
        if self._plain_fast_path and type(value) in _PLAIN_TYPES:
            return value
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, t.Any]) -> t.Any:
        """One decoded JSON object back to Python, if it is a tag; else as it is."""
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        if tag is None:
            return value
        return tag.to_python(value[key])

    def dumps(self, value: t.Any) -> str:
        """``value`` as a compact tagged JSON string."""
        return json.dumps(self.tag(value), separators=(",", ":"), default=_default)

    def loads(self, value: str | bytes) -> t.Any:
        """A value back from a tagged JSON string.

        :raises ValueError: the text is not JSON, or a tagged value is malformed
            (a custom tag's ``to_python`` may raise other errors).
        """
        # PERF: json calls untag on each object bottom-up, in C's loop, so no
        # second walk over the data is needed.
        return json.loads(value, object_hook=self.untag)
