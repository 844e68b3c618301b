"""URL converters: the typed ``<conv:name>`` slots of a rule.

A converter contributes a regular expression that selects the text of its
slot, turns that text into a Python value (``to_python``) when matching, and
turns a value back into URL text (``to_url``) when building.
"""

from __future__ import annotations

import decimal
import math
import re
import typing as t
import uuid
from urllib.parse import quote

if t.TYPE_CHECKING:
    from .map import Map

__all__ = [
    "DEFAULT_CONVERTERS",
    "AnyConverter",
    "BaseConverter",
    "FloatConverter",
    "IntegerConverter",
    "NumberConverter",
    "PathConverter",
    "UUIDConverter",
    "UnicodeConverter",
    "ValidationError",
]

#: Characters left unquoted in a path segment (the WHATWG path-segment set).
PATH_SAFE = "!$&'()*+,/:;=@"

# PERF: most values are plain ASCII words; skipping ``quote`` for them halves
# the cost of building a URL.
_already_safe = re.compile(r"[A-Za-z0-9_.~!$&'()*+,/:;=@-]*").fullmatch


def quote_path(value: str) -> str:
    """Percent-encode ``value`` for use in a URL path."""
    if _already_safe(value) is not None:
        return value
    return quote(value, safe=PATH_SAFE)


class ValidationError(ValueError):
    """Raised by ``to_python`` or ``to_url`` to say "this rule does not fit".

    During matching the router then tries the next rule; during building it
    tries the next rule for the endpoint.
    """


def parse_int(value: str) -> int:
    """``int(value)``, raising ``ValidationError`` for text too long to convert.

    ``int()`` refuses more than ``sys.get_int_max_str_digits()`` (4,300)
    digits; a URL with such a number is malformed: 404, not 500.
    """
    try:
        return int(value)
    except ValueError:
        raise ValidationError() from None


class BaseConverter:
    """A converter matching one path segment and passing the text unchanged."""

    #: The regular expression selecting this slot's text.
    regex: str = "[^/]+"
    #: Lower weights are tried first when several converters could match.
    weight: int = 100
    #: False when ``regex`` can match ``/`` and so spans several segments.
    part_isolating: bool = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        # COMPAT: a subclass that sets a regex able to match "/" (and says
        # nothing about part_isolating) spans segments, as in Werkzeug.
        if "regex" in cls.__dict__ and "part_isolating" not in cls.__dict__:
            cls.part_isolating = "/" not in cls.regex

    def __init__(self, map: Map, *args: t.Any, **kwargs: t.Any) -> None:
        self.map = map

    def to_python(self, value: str) -> t.Any:
        """Convert the matched URL text to the value given to the view."""
        return value

    def to_url(self, value: t.Any) -> str:
        """Convert a value to quoted URL text."""
        text = str(value)
        if _already_safe(text) is not None:
            return text
        return quote(text, safe=PATH_SAFE)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.regex!r}>"


class UnicodeConverter(BaseConverter):
    """The default converter: one path segment of bounded length.

    ``<string(minlength=2, maxlength=8):name>``, or ``length=`` for an exact
    length.
    """

    def __init__(
        self,
        map: Map,
        minlength: int = 1,
        maxlength: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(map)
        if length is not None:
            if int(length) < 1:
                raise ValueError(f"length must be at least 1, got {length!r}.")
            quantifier = f"{{{int(length)}}}"
        else:
            if int(minlength) < 0:
                raise ValueError(f"minlength must be >= 0, got {minlength!r}.")
            upper = "" if maxlength is None else str(int(maxlength))
            quantifier = f"{{{int(minlength)},{upper}}}"
        self.regex = f"[^/]{quantifier}"


class AnyConverter(BaseConverter):
    """Match one of a fixed set of words: ``<any(about, help):page>``."""

    weight = 50

    def __init__(self, map: Map, *items: str) -> None:
        super().__init__(map)
        if not items:
            raise ValueError("The any converter needs at least one item.")
        self.items = [str(item) for item in items]
        self.regex = "(?:" + "|".join(re.escape(x) for x in self.items) + ")"
        self.part_isolating = not any("/" in x for x in self.items)

    def to_url(self, value: t.Any) -> str:
        if value in self.items:
            return quote_path(str(value))
        raise ValueError(f"{value!r} is not one of {self.items!r}; pass one of those values.")


class PathConverter(BaseConverter):
    """Match the rest of the path, slashes included (at least one character)."""

    regex = "[^/].*?"
    weight = 200
    part_isolating = False


class NumberConverter(BaseConverter):
    """Shared logic of the int and float converters."""

    weight = 50
    signed_regex = ""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map)
        if signed:
            self.regex = self.signed_regex
        self.fixed_digits = fixed_digits
        self.min = min
        self.max = max
        self.signed = signed

    def num_convert(self, value: t.Any) -> t.Any:
        raise NotImplementedError

    def to_python(self, value: str) -> t.Any:
        if self.fixed_digits and len(value) != self.fixed_digits:
            raise ValidationError()
        try:
            number = self.num_convert(value)
        except ValueError:  # more digits than int() converts: a 404, not a 500
            raise ValidationError() from None
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise ValidationError()
        return number

    def to_url(self, value: t.Any) -> str:
        text = self._format(self.num_convert(value))
        if self.fixed_digits:
            text = text.zfill(self.fixed_digits)
        return text

    def _format(self, number: t.Any) -> str:
        return str(number)


class IntegerConverter(NumberConverter):
    """Match a decimal integer: ``<int:id>``, ``<int(signed=True, min=0):n>``."""

    # SECURITY: ASCII digits only; ``\\d`` would also accept other scripts'
    # digits, giving several URLs for one resource.
    regex = r"[0-9]+"
    signed_regex = r"-?[0-9]+"

    def num_convert(self, value: t.Any) -> int:
        return int(value)

    def to_url(self, value: t.Any) -> str:
        text = str(int(value))
        return text.zfill(self.fixed_digits) if self.fixed_digits else text


class FloatConverter(NumberConverter):
    """Match a decimal number with a dot: ``<float:x>``."""

    regex = r"[0-9]+\.[0-9]+"
    signed_regex = r"-?[0-9]+\.[0-9]+"

    def __init__(
        self,
        map: Map,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, min=min, max=max, signed=signed)

    def num_convert(self, value: t.Any) -> float:
        return float(value)

    def _format(self, number: t.Any) -> str:
        text = repr(number)
        if not math.isfinite(number):
            raise ValueError(f"Cannot put {number!r} in a URL; pass a finite float.")
        # Exponent forms (1e-07) would not match the regex: spell them out.
        if "e" in text or "E" in text:
            text = format(decimal.Decimal(text), "f")
        if "." not in text:
            text += ".0"
        return text


class UUIDConverter(BaseConverter):
    """Match a UUID in its canonical hyphenated form: ``<uuid:id>``."""

    regex = r"[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"
    weight = 50

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value: t.Any) -> str:
        return str(value)


#: The converters every map knows, by the name used in rules.
DEFAULT_CONVERTERS: t.Mapping[str, type[BaseConverter]] = {
    "default": UnicodeConverter,
    "string": UnicodeConverter,
    "any": AnyConverter,
    "path": PathConverter,
    "int": IntegerConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
}
