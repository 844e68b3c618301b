"""Parse and dump HTTP header values, query strings, cookies and dates.

Pure functions over ``str`` and ``bytes`` that return plain values; the
structured types in :mod:`erlen.http.values` wrap them, never the other way
round. Every parser runs in linear time on any input: the regular expressions
here have no nested or overlapping quantifiers, and an unterminated quoted
string consumes the rest of its input instead of being retried.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import collections.abc as cabc
import hashlib
import re
import time
import typing as t
import warnings
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

from .exceptions import BadRequest
from .exceptions import RequestEntityTooLarge

__all__ = [
    "dump_cookie",
    "dump_header",
    "dump_options_header",
    "generate_etag",
    "http_date",
    "is_byte_range_valid",
    "parse_accept_header",
    "parse_authorization_header",
    "parse_cache_control_header",
    "parse_content_range_header",
    "parse_cookie",
    "parse_date",
    "parse_dict_header",
    "parse_etags",
    "parse_if_range_header",
    "parse_list_header",
    "parse_options_header",
    "parse_qsl",
    "parse_range_header",
    "parse_set_header",
    "parse_www_authenticate_header",
    "quote_etag",
    "quote_header_value",
    "unquote_etag",
    "unquote_header_value",
    "url_encode",
    "url_quote",
    "url_unquote",
]

# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------

# RFC 9110 token characters.
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
# A quoted string body, "unrolled" so that no two alternatives overlap: linear.
_QUOTED_RE = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"', re.DOTALL)
_UNESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_HEX_DIGITS = "0123456789abcdefABCDEF"
# Every two-character hex string (any case) to the byte it encodes.
_HEX_TO_BYTE: dict[bytes, bytes] = {
    (a + b).encode("ascii"): bytes.fromhex(a + b) for a in _HEX_DIGITS for b in _HEX_DIGITS
}
# Longest decimal digit string accepted where a header carries an integer.
# SECURITY: int() on a huge digit string is slow (and raises past 4300 digits).
_MAX_INT_DIGITS = 19


def _is_token(value: str) -> bool:
    # PERF: issuperset walks the string in C (Response.vary.add("Cookie"), on
    # every session response: 38k -> 33k instructions).
    return bool(value) and _TOKEN_CHARS.issuperset(value)


def _to_int(value: str) -> int | None:
    # A plain non-negative decimal integer, or None ("1_0", "+1", "١" refused).
    if value and len(value) <= _MAX_INT_DIGITS and value.isascii() and value.isdigit():
        return int(value)
    return None


def _unescape(value: str) -> str:
    # Remove backslash escapes from the inside of a quoted string.
    if "\\" not in value:
        return value
    return _UNESCAPE_RE.sub(r"\1", value)


def _split_outside_quotes(value: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is not inside a quoted string."""
    if '"' not in value:
        return value.split(sep)
    out: list[str] = []
    start = 0
    i = 0
    n = len(value)
    q = s = -2
    while i < n:
        # Each find runs only when the last hit is behind us: linear overall.
        if -1 < q < i or q == -2:
            q = value.find('"', i)
        if -1 < s < i or s == -2:
            s = value.find(sep, i)
        if s != -1 and (q == -1 or s < q):
            out.append(value[start:s])
            start = i = s + 1
            continue
        if q == -1:
            break
        m = _QUOTED_RE.match(value, q)
        if m is None:
            # Unterminated quote: it swallows the rest (keeps this linear).
            break
        i = m.end()
    out.append(value[start:])
    return out


# ---------------------------------------------------------------------------
# Query strings and URL encoding
# ---------------------------------------------------------------------------


def _percent_decode(data: bytes) -> bytes | None:
    # Strict: None when an escape is malformed.
    parts = data.split(b"%")
    out = [parts[0]]
    append = out.append
    table = _HEX_TO_BYTE
    for part in parts[1:]:
        byte = table.get(part[:2])
        if byte is None:
            return None
        append(byte)
        append(part[2:])
    return b"".join(out)


def _bad_escape(data: bytes, offset: int) -> tuple[int, str]:
    # Position and text of the first malformed escape in data.
    pos = data.find(b"%")
    while pos != -1:
        if data[pos + 1 : pos + 3] not in _HEX_TO_BYTE:
            return offset + pos, data[pos : pos + 3].decode("latin-1")
        pos = data.find(b"%", pos + 1)
    return offset, ""  # pragma: no cover - only called after a failure


def _decode_component(data: bytes, offset: int, what: str) -> str:
    # data has had "+" replaced already.
    if b"%" in data:
        decoded = _percent_decode(data)
        if decoded is None:
            pos, text = _bad_escape(data, offset)
            raise BadRequest(
                f"The {what} has invalid percent-encoding at position {pos}"
                f" ({text!r}). Encode a literal '%' as '%25'."
            )
        data = decoded
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(
            f"The {what} is not valid UTF-8 after percent-decoding, near"
            f" position {offset}. Encode text as UTF-8 before percent-encoding it."
        ) from e


def _split_pairs(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    append = out.append
    for pair in text.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            append((key, value))
    return out


def parse_qsl(
    raw: bytes | str,
    *,
    what: str = "query string",
    max_pairs: int | None = None,
) -> list[tuple[str, str]]:
    """Parse a query string or urlencoded body into ``(key, value)`` pairs.

    Only ``&`` separates pairs (``;`` does not, so a proxy and the app cannot
    disagree about the pairs). ``+`` is a space; ``a`` alone gives ``("a", "")``
    and empty pairs are skipped. ``bytes`` are decoded as UTF-8 after
    percent-decoding; a ``str`` is taken as text already.

    :param what: names the input in error messages ("form body").
    :param max_pairs: raise :class:`RequestEntityTooLarge` past this many pairs.
    :raises BadRequest: invalid percent-encoding or invalid UTF-8.
    """
    if isinstance(raw, str):
        # PERF: the common case has no escapes: split and done.
        if "%" not in raw and "+" not in raw:
            result = _split_pairs(raw)
            _check_pairs(result, max_pairs, what)
            return result
        data = raw.encode("utf-8", "surrogatepass")
    else:
        # PERF: bytes are the common input (WSGI/ASGI query strings, bodies);
        # don't copy them.
        data = raw if type(raw) is bytes else bytes(raw)
        text = _qs_text(data)
        if text is not None:
            result = _split_pairs(text)
            _check_pairs(result, max_pairs, what)
            return result
    # "+" is never a separator, so it can become a space in one pass.
    if b"+" in data:
        data = data.replace(b"+", b" ")
    if b"\\" not in data and _BAD_ESCAPE.search(data) is None:
        # PERF: every escape is well-formed: let the C escape decoder turn
        # "%XX" into bytes. Invalid UTF-8 falls through to the precise path
        # below, which names the position in its error.
        try:
            result = _decode_escaped_pairs(data)
        except UnicodeDecodeError:
            pass
        else:
            _check_pairs(result, max_pairs, what)
            return result
    out: list[tuple[str, str]] = []
    append = out.append
    pos = 0
    for pair in data.split(b"&"):
        if pair:
            if b"%" not in pair:
                # PERF: a pair without escapes decodes in one call.
                key_s, _, value_s = _decode_component(pair, pos, what).partition("=")
                append((key_s, value_s))
            else:
                key, sep, value = pair.partition(b"=")
                append(
                    (
                        _decode_component(key, pos, what),
                        _decode_component(value, pos + len(key) + 1, what) if sep else "",
                    )
                )
        pos += len(pair) + 1
    _check_pairs(out, max_pairs, what)
    return out


# A "%" not followed by two hex digits.
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _qs_text(data: bytes) -> str | None:
    """The whole query string percent-decoded as text, when splitting it after
    decoding gives the same pairs as decoding each key and value; else None.

    None also for invalid UTF-8 or a bad escape: the precise path in
    :func:`parse_qsl` then names the position in its error.
    """
    # PERF: decoding once and splitting the text is 2-3x faster than decoding
    # every key and value on its own (benchmarks/instructions.py query,form).
    # The checks run on text: `b"%" in data` costs ~4x more than `"%" in text`
    # (bytes.__contains__ first tries the operand as an int and formats the
    # TypeError it gets).
    try:
        text = data.decode()  # PERF: UTF-8 without naming it, ~200 instructions less
    except UnicodeDecodeError:
        return None
    if "%" in text or "+" in text:
        return _qs_unescape(text)
    return text


def _qs_unescape(text: str) -> str | None:
    """Query-string text (decoded from UTF-8) with "+" as a space and every
    "%XX" decoded, when splitting it after that gives the same pairs as
    decoding each key and value on its own; else None.

    The one decoding rule of the fast paths: :func:`_qs_text` and
    ``forms._qs_to_multidict`` call it for text with a "%" or a "+" (other
    text needs no decoding).
    """
    if "%" not in text:
        return text.replace("+", " ") if "+" in text else text
    # Percent-decode the whole text, unless that could give other pairs than
    # decoding piece by piece: an escaped separator ("%26" is "&", "%3D" is
    # "=") or a backslash (which the escape decoder would interpret). The
    # separators are ASCII and never part of a UTF-8 sequence, so the result
    # is valid UTF-8 exactly when every key and value is.
    if "\\" in text or "%26" in text or "%3D" in text or "%3d" in text:
        return None
    if "+" in text:
        text = text.replace("+", " ")
    try:
        # escape_decode raises ValueError for a "%" without two hex digits
        # after it; UnicodeDecodeError is a ValueError too.
        return codecs.escape_decode(text.replace("%", "\\x"))[0].decode()
    except ValueError:
        return None


def _decode_escaped_pairs(data: bytes) -> list[tuple[str, str]]:
    # Only for data without backslashes whose escapes are all well-formed.
    escape_decode = codecs.escape_decode
    out: list[tuple[str, str]] = []
    append = out.append
    for pair in data.split(b"&"):
        if pair:
            key, _, value = pair.partition(b"=")
            if b"%" in key:
                key = escape_decode(key.replace(b"%", b"\\x"))[0]
            if b"%" in value:
                value = escape_decode(value.replace(b"%", b"\\x"))[0]
            append((key.decode("utf-8"), value.decode("utf-8")))
    return out


def _check_pairs(result: list[tuple[str, str]], max_pairs: int | None, what: str) -> None:
    if max_pairs is not None and len(result) > max_pairs:
        raise RequestEntityTooLarge(
            f"The {what} has more than {max_pairs} fields. Send fewer fields or"
            " raise the limit (MAX_FORM_PARTS)."
        )


_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_quote_tables: dict[tuple[str, bool], tuple[bytes, list[str]]] = {}


def _quote_table(safe: str, plus: bool) -> tuple[bytes, list[str]]:
    key = (safe, plus)
    cached = _quote_tables.get(key)
    if cached is not None:
        return cached
    keep = _UNRESERVED + safe.encode("ascii", "ignore")
    table = [chr(b) if b in keep else f"%{b:02X}" for b in range(256)]
    if plus:
        table[0x20] = "+"
    if len(_quote_tables) < 64:
        _quote_tables[key] = (keep, table)
    return keep, table


def _quote(value: str | bytes, safe: str, plus: bool) -> str:
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    keep, table = _quote_table(safe, plus)
    # PERF: nothing to escape is the common case for names and plain words.
    if not data.translate(None, keep):
        return data.decode("ascii")
    return "".join([table[b] for b in data])


def url_quote(value: str | bytes, safe: str = "/:") -> str:
    """Percent-encode ``value`` (UTF-8) for a URL, keeping unreserved and ``safe``."""
    return _quote(value, safe, False)


def url_unquote(value: str | bytes, errors: str = "replace") -> str:
    """Percent-decode ``value`` tolerantly; malformed escapes are kept as they are.

    ``+`` is left alone: this is for paths. Bytes that are not UTF-8 are handled
    by ``errors`` (replaced by default).
    """
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    if b"%" not in data:
        return data.decode("utf-8", errors)
    parts = data.split(b"%")
    out = [parts[0]]
    for part in parts[1:]:
        byte = _HEX_TO_BYTE.get(part[:2])
        if byte is None:
            out.append(b"%")
            out.append(part)
        else:
            out.append(byte)
            out.append(part[2:])
    return b"".join(out).decode("utf-8", errors)


def _iter_pairs(obj: t.Any) -> cabc.Iterator[tuple[t.Any, t.Any]]:
    # Pairs of a MultiDict (via .lists()), a mapping (list values expand) or
    # an iterable of pairs.
    if isinstance(obj, cabc.Mapping):
        lists = getattr(obj, "lists", None)
        if callable(lists):
            for key, values in lists():
                for value in values:
                    yield key, value
            return
        for key, value in obj.items():
            if isinstance(value, list | tuple):
                for item in value:
                    yield key, item
            else:
                yield key, value
        return
    yield from obj


def url_encode(
    obj: cabc.Mapping[str, t.Any] | cabc.Iterable[tuple[str, t.Any]],
    sort: bool = False,
) -> str:
    """Encode pairs or a mapping as a query string, the inverse of :func:`parse_qsl`.

    List values of a mapping give one pair each; ``None`` values are skipped.
    """
    pairs = [(k, v) for k, v in _iter_pairs(obj) if v is not None]
    if sort:
        pairs.sort(key=lambda kv: str(kv[0]))
    parts = []
    for key, value in pairs:
        k = key if isinstance(key, bytes) else str(key)
        v = value if isinstance(value, bytes) else str(value)
        parts.append(f"{_quote(k, '', True)}={_quote(v, '', True)}")
    return "&".join(parts)


# ---------------------------------------------------------------------------
# Quoted strings, lists and dicts
# ---------------------------------------------------------------------------


def quote_header_value(value: t.Any, allow_token: bool = True) -> str:
    """Quote ``value`` as an HTTP quoted-string unless it is a plain token."""
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    if allow_token and _is_token(text):
        return text
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def unquote_header_value(value: str) -> str:
    """Remove the quotes and backslash escapes of a quoted-string, if quoted."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _unescape(value[1:-1])
    return value


def parse_list_header(value: str | None) -> list[str]:
    """Split a comma-separated header value; quoted items are unquoted.

    Commas inside quoted strings don't split; empty items are dropped.
    """
    if not value:
        return []
    out = []
    for item in _split_outside_quotes(value, ","):
        item = item.strip()
        if item:
            out.append(unquote_header_value(item))
    return out


def parse_set_header(value: str | None) -> list[str]:
    """Parse a ``Vary``/``Allow``-style list, dropping case-insensitive duplicates."""
    if not value:
        return []
    seen: set[str] = set()
    out = []
    for item in parse_list_header(value):
        key = item.lower()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _decode_rfc2231(value: str) -> str | None:
    # charset'language'percent-encoded -> text, None when it isn't that shape.
    charset, sep, rest = value.partition("'")
    if not sep:
        return None
    _, sep, encoded = rest.partition("'")
    if not sep:
        return None
    return _decode_with_charset(charset, _percent_bytes(encoded))


def _percent_bytes(value: str) -> bytes:
    # Tolerant percent-decoding to bytes.
    data = value.encode("utf-8", "surrogatepass")
    if b"%" not in data:
        return data
    parts = data.split(b"%")
    out = [parts[0]]
    for part in parts[1:]:
        byte = _HEX_TO_BYTE.get(part[:2])
        if byte is None:
            out.append(b"%" + part)
        else:
            out.append(byte + part[2:])
    return b"".join(out)


def _decode_with_charset(charset: str, data: bytes) -> str:
    try:
        name = codecs.lookup(charset or "utf-8").name
    except (LookupError, ValueError):
        name = "utf-8"
    if name not in {"utf-8", "iso8859-1", "latin-1", "ascii", "us-ascii"}:
        # SECURITY: only text codecs a client may reasonably name; never a
        # codec such as "rot13" or "zlib" chosen by the request.
        name = "utf-8"
    return data.decode(name, "replace")


def parse_dict_header(value: str | None) -> dict[str, str | None]:
    """Parse ``a=b, c="d, e", f`` into ``{"a": "b", "c": "d, e", "f": None}``.

    ``key*=UTF-8''...`` (RFC 2231) is decoded and stored under ``key``, taking
    precedence over a plain ``key``.
    """
    result: dict[str, str | None] = {}
    if not value:
        return result
    extended: set[str] = set()
    for item in _split_outside_quotes(value, ","):
        key, sep, val = item.partition("=")
        key = key.strip()
        if not key:
            continue
        if not sep:
            result.setdefault(key, None)
            continue
        val = unquote_header_value(val.strip())
        if key[-1] == "*" and len(key) > 1:
            decoded = _decode_rfc2231(val)
            if decoded is not None:
                key = key[:-1]
                result[key] = decoded
                extended.add(key)
                continue
        if key not in extended:
            result[key] = val
    return result


def dump_header(iterable: cabc.Mapping[str, t.Any] | cabc.Iterable[t.Any]) -> str:
    """Serialise a mapping as ``k=v, k2`` or an iterable as ``a, "b c"``.

    A ``None`` mapping value gives a bare key.
    """
    if isinstance(iterable, cabc.Mapping):
        items = []
        for key, value in iterable.items():
            if value is None:
                items.append(str(key))
            else:
                items.append(f"{key}={quote_header_value(value)}")
        return ", ".join(items)
    return ", ".join([quote_header_value(x) for x in iterable])


# ---------------------------------------------------------------------------
# Options headers: Content-Type, Content-Disposition
# ---------------------------------------------------------------------------

_CONTINUATION_RE = re.compile(r"([^*]+)\*(\d{1,3})(\*?)")
_MAX_CONTINUATIONS = 100


def parse_options_header(value: str | None) -> tuple[str, dict[str, str]]:
    """Parse ``text/html; charset="utf-8"`` into ``("text/html", {"charset": "utf-8"})``.

    Parameter names are lowercased; quoted values are unquoted. RFC 2231/5987
    extended values (``filename*=UTF-8''na%C3%AFve.txt``) are decoded and win
    over the plain parameter; continuations (``filename*0*=``) are joined.
    Parameters without ``=`` are dropped. Never raises.
    """
    if not value:
        return "", {}
    main, sep, rest = value.partition(";")
    main = main.strip()
    if not sep:
        return main, {}
    params: dict[str, str] = {}
    extended: set[str] = set()
    continued: dict[str, list[tuple[int, bool, str]]] = {}
    i = 0
    n = len(rest)
    eq = -2
    while i < n:
        semi = rest.find(";", i)
        if -1 < eq < i or eq == -2:
            eq = rest.find("=", i)
        if eq == -1 or (semi != -1 and semi < eq):
            # A parameter with no value: skip it.
            if semi == -1:
                break
            i = semi + 1
            continue
        key = rest[i:eq].strip().lower()
        j = eq + 1
        while j < n and rest[j] in " \t":
            j += 1
        if j < n and rest[j] == '"':
            m = _QUOTED_RE.match(rest, j)
            if m is None:
                val = _unescape(rest[j + 1 :])
                i = n
            else:
                val = _unescape(m.group(1))
                semi = rest.find(";", m.end())
                i = n if semi == -1 else semi + 1
        else:
            semi = rest.find(";", j)
            end = n if semi == -1 else semi
            val = rest[j:end].strip()
            i = end + 1
        if not key:
            continue
        if key[-1] == "*":
            m2 = _CONTINUATION_RE.fullmatch(key[:-1]) if key[-2:-1].isdigit() else None
            if m2 is not None:
                continued.setdefault(m2.group(1), []).append((int(m2.group(2)), True, val))
                continue
            decoded = _decode_rfc2231(val)
            if decoded is not None:
                key = key[:-1]
                params[key] = decoded
                extended.add(key)
                continue
        else:
            m2 = _CONTINUATION_RE.fullmatch(key)
            if m2 is not None:
                continued.setdefault(m2.group(1), []).append((int(m2.group(2)), False, val))
                continue
        if key not in extended:
            params[key] = val
    for key, pieces in continued.items():
        if key in extended:
            continue
        joined = _join_continuations(pieces)
        if joined is not None:
            params[key] = joined
    return main, params


def _join_continuations(pieces: list[tuple[int, bool, str]]) -> str | None:
    # RFC 2231 section 3/4: key*0*=charset''a%20, key*1=b, ... in index order.
    if len(pieces) > _MAX_CONTINUATIONS:
        return None
    pieces.sort(key=lambda p: p[0])
    charset = "utf-8"
    chunks: list[bytes] = []
    for index, (_, encoded, val) in enumerate(pieces):
        if encoded:
            if index == 0:
                cs, sep, rest = val.partition("'")
                if sep:
                    _, sep, val = rest.partition("'")
                    charset = cs or charset
                    if not sep:
                        return None
            chunks.append(_percent_bytes(val))
        else:
            chunks.append(val.encode("utf-8", "surrogatepass"))
    return _decode_with_charset(charset, b"".join(chunks))


def dump_options_header(header: str | None, options: cabc.Mapping[str, t.Any]) -> str:
    """Serialise a value and its parameters: ``text/html; charset=utf-8``.

    Values are quoted when they aren't tokens; a ``None`` value gives a bare
    key; a non-ASCII value is sent RFC 5987 encoded (``key*=UTF-8''...``) so
    the header stays ASCII.
    """
    parts = [] if header is None else [header]
    for key, value in options.items():
        if value is None:
            parts.append(key)
            continue
        text = str(value)
        if text.isascii() or key.endswith("*"):
            parts.append(f"{key}={quote_header_value(text)}")
        else:
            parts.append(f"{key}*=UTF-8''{url_quote(text, safe='')}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------
# Accept, Cache-Control, Authorization
# ---------------------------------------------------------------------------


def _accept_specificity(value: str) -> int:
    if "/" in value:
        main, _, params = value.partition(";")
        kind, _, sub = main.partition("/")
        spec = (kind.strip() != "*") + (sub.strip() != "*")
        return spec + (1 if params.strip() else 0)
    return 0 if value == "*" else 2


def parse_accept_header(value: str | None) -> list[tuple[str, float]]:
    """Parse an ``Accept*`` header into ``(value, quality)`` pairs, best first.

    Sorted by quality, then specificity (``text/html`` before ``text/*`` before
    ``*/*``), otherwise in the client's order. A quality is clamped to [0, 1];
    an item with a malformed quality is dropped. Parameters other than ``q``
    stay in the value (``text/html; level=1``).
    """
    if not value:
        return []
    items: list[tuple[str, float, int]] = []
    for raw in _split_outside_quotes(value, ","):
        raw = raw.strip()
        if not raw:
            continue
        if ";" not in raw:
            items.append((raw, 1.0, _accept_specificity(raw)))
            continue
        main, options = parse_options_header(raw)
        if not main:
            continue
        quality = 1.0
        if "q" in options:
            q = options.pop("q").strip()
            if not q or len(q) > 10 or not q.isascii():
                continue
            try:
                quality = float(q)
            except ValueError:
                continue
            if quality != quality:  # NaN
                continue
            quality = min(max(quality, 0.0), 1.0)
        if options:
            main = dump_options_header(main, options)
        items.append((main, quality, _accept_specificity(main)))
    items.sort(key=lambda x: (-x[1], -x[2]))
    return [(v, q) for v, q, _ in items]


def parse_cache_control_header(value: str | None) -> dict[str, str | None]:
    """Parse ``Cache-Control`` into directives (lowercased) and their arguments."""
    return {k.lower(): v for k, v in parse_dict_header(value).items()}


_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def _parse_auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    if not _is_token(scheme):
        return None
    return scheme.lower(), rest.strip()


def _auth_params(rest: str) -> dict[str, str]:
    return {k: v for k, v in parse_dict_header(rest).items() if v is not None}


def parse_authorization_header(
    value: str | None,
) -> tuple[str, dict[str, str] | None, str | None] | None:
    """Parse ``Authorization`` into ``(type, parameters, token)``; None if malformed.

    ``Basic`` gives ``{"username", "password"}``; a token scheme such as
    ``Bearer`` gives ``(type, None, token)``; an auth-param list (``Digest``)
    gives ``(type, params, None)``. The type is lowercased.
    """
    parsed = _parse_auth(value)
    if parsed is None:
        return None
    scheme, rest = parsed
    if scheme == "basic":
        if not rest or len(rest) > 16384:
            return None
        try:
            decoded = base64.b64decode(rest.encode("ascii"), validate=True)
            text = decoded.decode("utf-8")
        except (binascii.Error, UnicodeError, ValueError):
            return None
        username, sep, password = text.partition(":")
        if not sep:
            return None
        return scheme, {"username": username, "password": password}, None
    if not rest:
        return scheme, None, None
    if _TOKEN68_RE.fullmatch(rest):
        return scheme, None, rest
    return scheme, _auth_params(rest), None


def parse_www_authenticate_header(
    value: str | None,
) -> tuple[str, dict[str, str] | None, str | None] | None:
    """Parse one ``WWW-Authenticate`` challenge into ``(type, parameters, token)``."""
    parsed = _parse_auth(value)
    if parsed is None:
        return None
    scheme, rest = parsed
    if not rest:
        return scheme, {}, None
    if _TOKEN68_RE.fullmatch(rest):
        return scheme, None, rest
    return scheme, _auth_params(rest), None


# ---------------------------------------------------------------------------
# Ranges
# ---------------------------------------------------------------------------

#: SECURITY: the most ranges accepted in one Range header; more is refused as
#: a whole, so a request cannot make the server assemble thousands of parts.
MAX_RANGES = 100


def is_byte_range_valid(start: int | None, stop: int | None, length: int | None) -> bool:
    """Whether ``start``-``stop`` (exclusive) is a valid byte range of ``length``."""
    if (start is None) != (stop is None):
        return False
    if start is None or stop is None:
        return length is None or length >= 0
    if length is None:
        return 0 <= start < stop
    return 0 <= start < stop <= length


def parse_range_header(
    value: str | None, make_inclusive: bool = True
) -> tuple[str, list[tuple[int, int | None]]] | None:
    """Parse ``Range: bytes=0-499, 500-, -500``; None if malformed.

    Ranges are ``(start, stop)`` with ``stop`` exclusive (``0-499`` gives
    ``(0, 500)``), ``(500, None)`` for an open end and ``(-500, None)`` for a
    suffix. Ranges must ascend without overlap, a suffix comes last, and at
    most :data:`MAX_RANGES` are accepted.
    """
    if not value or "=" not in value:
        return None
    units, _, spec = value.partition("=")
    units = units.strip().lower()
    if not _is_token(units):
        return None
    items = spec.split(",", MAX_RANGES)
    if len(items) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int | None]] = []
    last_end = 0
    for item in items:
        item = item.strip()
        first, sep, second = item.partition("-")
        if not sep:
            return None
        first = first.strip()
        second = second.strip()
        if last_end < 0:
            return None  # nothing may follow a suffix or an open range
        if not first:
            suffix = _to_int(second)
            if suffix is None or suffix == 0:
                return None
            ranges.append((-suffix, None))
            last_end = -1
            continue
        begin = _to_int(first)
        if begin is None or begin < last_end:
            return None
        if second:
            end = _to_int(second)
            if end is None:
                return None
            if make_inclusive:
                end += 1
            if begin >= end:
                return None
            ranges.append((begin, end))
            last_end = end
        else:
            ranges.append((begin, None))
            last_end = -1
    return units, ranges


def parse_content_range_header(
    value: str | None,
) -> tuple[str, int | None, int | None, int | None] | None:
    """Parse ``Content-Range: bytes 0-499/1234`` into ``(units, start, stop, length)``.

    ``stop`` is exclusive; ``bytes */1234`` gives ``(units, None, None, 1234)``
    and an unknown length (``/*``) gives ``None``. None if malformed.
    """
    if not value:
        return None
    units, _, rest = value.strip().partition(" ")
    units = units.lower()
    if not _is_token(units):
        return None
    rng, sep, length_text = rest.strip().partition("/")
    if not sep:
        return None
    length_text = length_text.strip()
    length: int | None
    if length_text == "*":
        length = None
    else:
        length = _to_int(length_text)
        if length is None:
            return None
    rng = rng.strip()
    if rng == "*":
        if length is None:
            return None
        return units, None, None, length
    first, sep, second = rng.partition("-")
    start = _to_int(first.strip())
    end = _to_int(second.strip())
    if not sep or start is None or end is None:
        return None
    stop = end + 1
    if not is_byte_range_valid(start, stop, length):
        return None
    return units, start, stop, length


# ---------------------------------------------------------------------------
# ETags
# ---------------------------------------------------------------------------


def parse_etags(value: str | None) -> tuple[list[str], list[str], bool]:
    """Parse ``If-Match``/``If-None-Match`` into ``(strong, weak, star)``.

    ``*`` anywhere gives ``([], [], True)``. Unquoted tags are accepted as
    strong ones.
    """
    strong: list[str] = []
    weak: list[str] = []
    if not value:
        return strong, weak, False
    i = 0
    n = len(value)
    while i < n:
        c = value[i]
        if c in " \t,":
            i += 1
            continue
        is_weak = False
        if value.startswith(("W/", "w/"), i):
            is_weak = True
            i += 2
        if i < n and value[i] == '"':
            end = value.find('"', i + 1)
            if end == -1:
                end = n
            tag = value[i + 1 : end]
            comma = value.find(",", end)
            i = n if comma == -1 else comma + 1
        else:
            comma = value.find(",", i)
            end = n if comma == -1 else comma
            tag = value[i:end].strip()
            i = end + 1
            if tag == "*" and not is_weak:
                return [], [], True
        (weak if is_weak else strong).append(tag)
    return strong, weak, False


def quote_etag(etag: str, weak: bool = False) -> str:
    """Quote an entity tag: ``"abc"`` or ``W/"abc"``.

    :raises ValueError: the tag contains a double quote.
    """
    if '"' in etag:
        raise ValueError(
            f"ETag {etag!r} contains a double quote. Use only characters other than '\"'."
        )
    return f'W/"{etag}"' if weak else f'"{etag}"'


def unquote_etag(value: str | None) -> tuple[str | None, bool]:
    """Unquote an entity tag into ``(tag, is_weak)``; ``(None, False)`` for None."""
    if value is None:
        return None, False
    value = value.strip()
    weak = False
    if value.startswith(("W/", "w/")):
        weak = True
        value = value[2:]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value, weak


def generate_etag(data: bytes) -> str:
    """An ETag for ``data``: its SHA-1 hex digest (a fingerprint, not a secret)."""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBERS = {m.lower(): i for i, m in enumerate(_MONTHS, 1)}
_WEEKDAY_NAMES = frozenset(
    [d.lower() for d in _WEEKDAYS]
    + ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
)
_now_cache: tuple[int, str] = (-1, "")


def _format_tm(tm: time.struct_time) -> str:
    return (
        f"{_WEEKDAYS[tm.tm_wday]}, {tm.tm_mday:02d} {_MONTHS[tm.tm_mon - 1]}"
        f" {tm.tm_year:04d} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} GMT"
    )


def http_date(dt: datetime | date | int | float | None = None) -> str:
    """Format a time as an IMF-fixdate in UTC: ``Sun, 06 Nov 1994 08:49:37 GMT``.

    ``None`` is now; a number is a UNIX timestamp; a naive datetime is taken
    as UTC; a ``date`` is its midnight UTC.
    """
    global _now_cache
    if dt is None:
        # PERF: the Date header of every response; the string changes once a second.
        now = int(time.time())
        cached = _now_cache
        if cached[0] == now:
            return cached[1]
        text = _format_tm(time.gmtime(now))
        _now_cache = (now, text)
        return text
    if isinstance(dt, datetime):
        if dt.tzinfo is not None:
            dt = dt.astimezone(UTC)
    elif isinstance(dt, date):
        dt = datetime(dt.year, dt.month, dt.day)
    else:
        return _format_tm(time.gmtime(dt))
    return (
        f"{_WEEKDAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month - 1]}"
        f" {dt.year:04d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT"
    )


def _parse_clock(value: str) -> tuple[int, int, int] | None:
    parts = value.split(":")
    if len(parts) == 2:
        parts.append("0")
    if len(parts) != 3 or any(len(p) > 2 for p in parts):
        return None
    numbers = [_to_int(p) for p in parts]
    h, m, s = numbers
    if h is None or m is None or s is None:
        return None
    return h, m, s


def _parse_zone(value: str) -> int | None:
    # Offset in seconds east of UTC.
    upper = value.upper()
    if upper in {"GMT", "UTC", "UT", "Z"}:
        return 0
    if len(value) == 5 and value[0] in "+-":
        digits = _to_int(value[1:])
        if digits is None:
            return None
        offset = (digits // 100) * 3600 + (digits % 100) * 60
        return -offset if value[0] == "-" else offset
    return None


def parse_date(value: str | None) -> datetime | None:
    """Parse an HTTP date into an aware UTC datetime; None if it isn't one.

    Accepts the three RFC 9110 formats (IMF-fixdate, RFC 850 and asctime),
    with or without the weekday, and a numeric zone. Never raises.
    """
    if not value or len(value) > 100:
        return None
    parts = value.replace(",", " ").split()
    if parts and parts[0].lower() in _WEEKDAY_NAMES:
        parts = parts[1:]
    if not parts:
        return None
    zone = "GMT"
    if "-" in parts[0] and len(parts) in (2, 3):
        # RFC 850: 06-Nov-94 08:49:37 GMT
        pieces = parts[0].split("-")
        if len(pieces) != 3:
            return None
        day_s, month_s, year_s = pieces
        clock_s = parts[1]
        if len(parts) == 3:
            zone = parts[2]
    elif len(parts) in (4, 5) and parts[0].lower() in _MONTH_NUMBERS:
        # asctime: Nov  6 08:49:37 1994
        month_s, day_s, clock_s, year_s = parts[:4]
        if len(parts) == 5:
            zone = parts[4]
    elif len(parts) in (4, 5):
        # IMF-fixdate: 06 Nov 1994 08:49:37 GMT
        day_s, month_s, year_s, clock_s = parts[:4]
        if len(parts) == 5:
            zone = parts[4]
    else:
        return None
    month = _MONTH_NUMBERS.get(month_s.lower())
    day = _to_int(day_s)
    year = _to_int(year_s)
    clock = _parse_clock(clock_s)
    offset = _parse_zone(zone)
    if month is None or day is None or year is None or clock is None or offset is None:
        return None
    if len(year_s) <= 2:
        # RFC 9110: a two-digit year more than 50 years ahead is in the past.
        year += 1900 if year > 68 else 2000
    try:
        result = datetime(year, month, day, *clock, tzinfo=UTC)
        if offset:
            result -= timedelta(seconds=offset)
    except (ValueError, OverflowError):
        return None
    return result


# ---------------------------------------------------------------------------
# Cookies
# ---------------------------------------------------------------------------

# Characters a cookie value may carry without quotes (RFC 6265 cookie-octet).
_COOKIE_BARE = frozenset(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')
# Bytes that must be escaped inside a quoted cookie value, and their escapes.
_COOKIE_ESCAPES: dict[int, str] = {
    c: f"\\{c:03o}" for c in [*range(0x20), *b",;", *range(0x7F, 0x100)]
}
_COOKIE_ESCAPES[ord('"')] = '\\"'
_COOKIE_ESCAPES[ord("\\")] = "\\\\"
_COOKIE_QUOTE_TABLE = [_COOKIE_ESCAPES.get(c, chr(c)) for c in range(256)]
_COOKIE_UNESCAPE_RE = re.compile(rb"\\([0-3][0-7][0-7]|.)", re.DOTALL)
# Characters a cookie name may not contain.
_COOKIE_KEY_FORBIDDEN = frozenset('()<>@,;:\\"/[]?={} \t\r\n\x00\x7f') | frozenset(
    chr(c) for c in range(0x20)
)
_COOKIE_ATTR_FORBIDDEN = frozenset(";\r\n\x00")
_COOKIE_PATH_SAFE = "/:@!$&'()*+,=%~"


def _cookie_quote(value: str) -> str:
    if value and all(c in _COOKIE_BARE for c in value):
        return value
    if not value:
        return value
    data = value.encode("utf-8", "surrogatepass")
    return '"' + "".join([_COOKIE_QUOTE_TABLE[b] for b in data]) + '"'


def _cookie_unescape_match(m: re.Match[bytes]) -> bytes:
    g = m.group(1)
    if len(g) == 3:
        return bytes([int(g, 8)])
    return g


def _cookie_unquote(inner: str) -> str:
    if "\\" not in inner:
        return inner
    data = _COOKIE_UNESCAPE_RE.sub(_cookie_unescape_match, inner.encode("utf-8", "surrogatepass"))
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")


def parse_cookie(header: str | bytes | None) -> list[tuple[str, str]]:
    """Parse a ``Cookie`` header into ``(name, value)`` pairs, in order.

    Tolerant: malformed pairs are skipped and it never raises. Quoted values
    lose their quotes and backslash/octal escapes. ``bytes`` are decoded as
    UTF-8; a ``str`` holding the latin-1 view of UTF-8 bytes (as WSGI gives
    header values) is re-decoded as UTF-8.
    """
    if not header:
        return []
    if isinstance(header, bytes):
        header = header.decode("utf-8", "replace")
    elif not header.isascii():
        # COMPAT: WSGI and ASGI header strings are the latin-1 view of the
        # raw bytes; browsers send UTF-8, so recover it when it is there.
        try:
            header = header.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
    out: list[tuple[str, str]] = []
    if '"' not in header:
        # PERF: without quotes a pair is what lies between semicolons, split
        # at its first "="; the loop below gives the same pairs, 2x slower
        # (benchmarks/run.py --scenarios cookie).
        append = out.append
        for part in header.split(";"):
            name, _, rest = part.partition("=")
            name = name.strip()
            if name:
                append((name, rest.strip()))
        return out
    i = 0
    n = len(header)
    eq = -2
    # Once a quote has no closing quote, no later one has: don't rescan.
    unterminated = False
    while i < n:
        semi = header.find(";", i)
        if -1 < eq < i or eq == -2:
            eq = header.find("=", i)
        if eq == -1 or (semi != -1 and semi < eq):
            # COMPAT: a pair without "=" is a name with an empty value.
            end = n if semi == -1 else semi
            key = header[i:end].strip()
            if key:
                out.append((key, ""))
            i = end + 1
            continue
        key = header[i:eq].strip()
        j = eq + 1
        while j < n and header[j] in " \t":
            j += 1
        value: str
        if j < n and header[j] == '"' and not unterminated:
            m = _QUOTED_RE.match(header, j)
            if m is None:
                unterminated = True
            else:
                k = m.end()
                while k < n and header[k] in " \t":
                    k += 1
                if k >= n or header[k] == ";":
                    value = _cookie_unquote(m.group(1))
                    i = k + 1
                    # SECURITY: a nameless cookie ("=value") is dropped, so
                    # it cannot shadow or create a cookie named "".
                    if key:
                        out.append((key, value))
                    continue
        semi = header.find(";", j)
        end = n if semi == -1 else semi
        value = header[j:end].strip()
        i = end + 1
        if key:
            out.append((key, value))
    return out


def dump_cookie(
    key: str,
    value: str | bytes = "",
    max_age: timedelta | int | None = None,
    expires: str | datetime | int | float | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: str | None = None,
    partitioned: bool = False,
    sync_expires: bool = True,
    max_size: int = 4093,
) -> str:
    """Build a ``Set-Cookie`` header value.

    The value is quoted (with octal escapes) when it has characters a bare
    cookie value can't; :func:`parse_cookie` reverses that. ``max_age``
    sets ``Expires`` too unless ``sync_expires`` is false. ``partitioned``
    implies ``Secure``. A result longer than ``max_size`` warns, since browsers
    drop such cookies silently (0 disables the check).

    :raises ValueError: a bad name, attribute or ``samesite`` value.
    """
    if not key or any(c in _COOKIE_KEY_FORBIDDEN for c in key) or not key.isascii():
        raise ValueError(
            f"Cookie name {key!r} is not valid. Use a non-empty name of ASCII letters,"
            " digits and !#$%&'*+-.^_`|~ only."
        )
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    buf = [f"{key}={_cookie_quote(value)}"]
    if isinstance(max_age, timedelta):
        max_age = int(max_age.total_seconds())
    if expires is not None:
        if not isinstance(expires, str):
            expires = http_date(expires)
        _check_cookie_attr("expires", expires)
    elif max_age is not None and sync_expires:
        expires = http_date(time.time() + max_age)
    if samesite is not None:
        normal = samesite.title() if isinstance(samesite, str) else samesite
        if normal not in ("Strict", "Lax", "None"):
            raise ValueError(
                f"SameSite value {samesite!r} is not valid. Use 'Strict', 'Lax', 'None' or None."
            )
        samesite = normal
    if partitioned:
        secure = True
    if domain:
        _check_cookie_attr("domain", domain)
        if not domain.isascii():
            try:
                domain = domain.encode("idna").decode("ascii")
            except UnicodeError as e:
                raise ValueError(f"Cookie domain {domain!r} is not a valid host name.") from e
        buf.append(f"Domain={domain}")
    if expires is not None:
        buf.append(f"Expires={expires}")
    if max_age is not None:
        buf.append(f"Max-Age={int(max_age)}")
    if secure:
        buf.append("Secure")
    if httponly:
        buf.append("HttpOnly")
    if path is not None:
        buf.append(f"Path={url_quote(path, safe=_COOKIE_PATH_SAFE)}")
    if samesite is not None:
        buf.append(f"SameSite={samesite}")
    if partitioned:
        buf.append("Partitioned")
    result = "; ".join(buf)
    if max_size and len(result) > max_size:
        warnings.warn(
            f"The {key!r} cookie is {len(result)} bytes, more than the {max_size}"
            " bytes browsers accept; they may silently ignore it. Store less in"
            " the cookie.",
            stacklevel=2,
        )
    return result


def _check_cookie_attr(name: str, value: str) -> None:
    if any(c in _COOKIE_ATTR_FORBIDDEN for c in value):
        raise ValueError(f"Cookie {name} {value!r} contains ';', CR, LF or NUL. Remove them.")


def parse_if_range_header(value: str | None) -> tuple[str | None, datetime | None]:
    """Parse ``If-Range`` into ``(etag, None)`` or ``(None, date)``."""
    if not value:
        return None, None
    parsed = parse_date(value)
    if parsed is not None:
        return None, parsed
    return unquote_etag(value)[0], None
