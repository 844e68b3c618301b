"""Message flashing: notes stored in the session for the next page to show once.

A view calls :func:`flash` ("Saved."), redirects, and the next page's template
calls :func:`get_flashed_messages`, which removes them from the session.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from .globals import _request_ctx
from .signals import message_flashed


def flash(message: str, category: str = "message") -> None:
    """Store ``message`` in the session for the next request to show.

    ``category`` is free text; ``"message"``, ``"error"``, ``"info"`` and
    ``"warning"`` are customary. Needs a request context and a session (so a
    ``SECRET_KEY``). Sends the ``message_flashed`` signal.
    """
    ctx = _request_ctx()
    session = ctx.session
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    # Assign (not only append) so the session sees the change and is saved.
    session["_flashes"] = flashes
    if message_flashed.receivers:
        app = ctx.app
        message_flashed.send(
            app, _async_wrapper=app.ensure_sync, message=message, category=category
        )


@t.overload
def get_flashed_messages(
    with_categories: t.Literal[False] = False,
    category_filter: cabc.Iterable[str] = (),
) -> list[str]: ...


@t.overload
def get_flashed_messages(
    with_categories: t.Literal[True],
    category_filter: cabc.Iterable[str] = (),
) -> list[tuple[str, str]]: ...


@t.overload
def get_flashed_messages(
    with_categories: bool,
    category_filter: cabc.Iterable[str] = (),
) -> list[str] | list[tuple[str, str]]: ...


def get_flashed_messages(
    with_categories: bool = False,
    category_filter: cabc.Iterable[str] = (),
) -> list[str] | list[tuple[str, str]]:
    """The flashed messages, removed from the session on the first call of a request.

    Later calls in the same request return the same messages again, so a
    layout and a page may both call it. ``with_categories=True`` gives
    ``(category, message)`` pairs; ``category_filter`` keeps only those
    categories (the filtered-out messages are still consumed).
    """
    ctx = _request_ctx()
    flashes = ctx.flashes
    if flashes is None:
        session = ctx.session
        # COMPAT: `in` before pop, so a request without flashes leaves the session unmodified.
        flashes = session.pop("_flashes") if "_flashes" in session else []
        ctx.flashes = flashes
    if category_filter:
        wanted = (
            category_filter if isinstance(category_filter, cabc.Container) else set(category_filter)
        )
        flashes = [item for item in flashes if item[0] in wanted]
    if with_categories:
        return [(category, message) for category, message in flashes]
    return [message for _, message in flashes]
