"""Property tests: safe_join never raises and never leaves the folder."""

from __future__ import annotations

import os
import posixpath

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from erlen.http.files import safe_join

BASE = "/srv/static"

# Characters that matter to paths, mixed with arbitrary text.
_interesting = st.sampled_from(
    ["/", "\\", ".", "..", ":", "\x00", " ", "C:", "//", "CON", "nul", "\u00b9", "\uff0e", "$"]
)
segment = st.one_of(
    st.text(),
    st.lists(st.one_of(_interesting, st.text(max_size=3)), max_size=8).map("".join),
)


def _inside(base: str, path: str) -> bool:
    base = os.path.abspath(base)
    return os.path.commonpath([base, os.path.abspath(path)]) == base


@settings(max_examples=200, deadline=None)
@given(st.lists(segment, max_size=4))
@example(["../etc/passwd"])
@example(["a", "..", ".."])
@example(["//server/share"])
@example(["\\\\?\\C:\\"])
@example(["a/b/../../.."])
def test_safe_join_stays_inside(segments: list[str]) -> None:
    result = safe_join(BASE, *segments)
    if result is not None:
        assert _inside(BASE, result)
        assert "\x00" not in result
        assert "\\" not in result
        # Nothing of the result after the base climbs out or names a device.
        rest = result[len(BASE) :].lstrip("/")
        for part in rest.split("/") if rest else []:
            assert part not in ("", ".", "..")
            assert not part.endswith((".", " "))


@settings(max_examples=200, deadline=None)
@given(st.lists(segment, max_size=4))
def test_safe_join_relative_base(segments: list[str]) -> None:
    result = safe_join("static", *segments)
    if result is not None:
        assert _inside("static", result)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,10}[A-Za-z0-9_-]", fullmatch=True)))
def test_plain_names_are_accepted(segments: list[str]) -> None:
    # Ordinary names are never refused, unless they spell a device name.
    devices = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{d}" for p in ("COM", "LPT") for d in range(10)}
    if any(s.partition(".")[0].upper() in devices for s in segments):
        return
    assert safe_join(BASE, *segments) == posixpath.join(BASE, *segments)
