"""Sessions: per-user data kept between requests, in a signed cookie by default.

The cookie holds the data itself (tagged JSON, signed with ``SECRET_KEY`` by
itsdangerous), so workers keep no per-user state. Replace
``app.session_interface`` with a :class:`SessionInterface` subclass to store
sessions elsewhere.
"""

from __future__ import annotations

import collections.abc as cabc
import hashlib
import typing as t
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer

from .json.tag import TaggedJSONSerializer

if t.TYPE_CHECKING:
    from .app import Erlen
    from .wrappers import Request
    from .wrappers import Response

_missing: t.Any = object()


class SessionMixin(cabc.MutableMapping[str, t.Any]):
    """What every session offers on top of a mutable mapping: ``permanent`` and flags."""

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser session (``PERMANENT_SESSION_LIFETIME``).

        Stored in the session itself, under ``_permanent``.
        """
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    #: Whether the session was just created. The mixin cannot know, so it says
    #: ``False``; :class:`SecureCookieSessionInterface` sets it on new sessions.
    new = False

    #: Whether the session changed. The mixin cannot track changes, so it says
    #: ``True``; set it yourself after changing a mutable value inside it.
    modified = True

    #: Whether the session was read or written; decides ``Vary: Cookie``. The
    #: mixin cannot track reads, so it says ``True``.
    accessed = True


class SecureCookieSession(dict[str, t.Any], SessionMixin):
    """The default session: a dict that records reads (``accessed``) and writes (``modified``).

    ``accessed`` decides whether the response gets ``Vary: Cookie``; ``modified``
    whether the cookie is sent again. A change inside a mutable value (appending
    to a list stored in the session) is not seen: set ``modified`` yourself.
    """

    #: Changed since it was loaded.
    modified = False
    #: Read or written during this request.
    accessed = False
    new = False

    def __init__(
        self,
        initial: cabc.Mapping[str, t.Any] | cabc.Iterable[tuple[str, t.Any]] | None = None,
    ) -> None:
        if initial is None:
            super().__init__()
        else:
            super().__init__(initial)

    # -- reads -------------------------------------------------------------------
    # SECURITY: every read marks the session accessed, so the response varies on
    # the cookie and a shared cache never serves one user's page to another
    # (CVE-2023-30861). That includes reads of keys only: `in`, len, iteration
    # (CVE-2026-27205). Don't drop any of these overrides.

    def __getitem__(self, key: str) -> t.Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return super().__contains__(key)

    def __iter__(self) -> cabc.Iterator[str]:
        self.accessed = True
        return super().__iter__()

    def __len__(self) -> int:
        self.accessed = True
        return super().__len__()

    def __bool__(self) -> bool:
        self.accessed = True
        return super().__len__() != 0

    def keys(self) -> t.Any:
        self.accessed = True
        return super().keys()

    def values(self) -> t.Any:
        self.accessed = True
        return super().values()

    def items(self) -> t.Any:
        self.accessed = True
        return super().items()

    def copy(self) -> dict[str, t.Any]:
        self.accessed = True
        return dict(super().items())

    def __eq__(self, other: object) -> bool:
        self.accessed = True
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like dict

    def __or__(self, other: t.Any) -> t.Any:
        self.accessed = True
        return super().__or__(other)

    def __reversed__(self) -> cabc.Iterator[str]:
        self.accessed = True
        return super().__reversed__()

    # -- writes ------------------------------------------------------------------

    def __setitem__(self, key: str, value: t.Any) -> None:
        self.accessed = self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.accessed = self.modified = True
        super().__delitem__(key)

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True
        if not super().__contains__(key):
            self.modified = True
        return super().setdefault(key, default)

    def pop(self, key: str, default: t.Any = _missing) -> t.Any:
        self.accessed = True
        if super().__contains__(key):
            self.modified = True
            return super().pop(key)
        if default is _missing:
            raise KeyError(key)
        return default

    def popitem(self) -> tuple[str, t.Any]:
        self.accessed = True
        item = super().popitem()
        self.modified = True
        return item

    def clear(self) -> None:
        self.accessed = self.modified = True
        super().clear()

    def update(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.accessed = self.modified = True
        super().update(*args, **kwargs)

    def __ior__(self, other: t.Any) -> t.Self:  # type: ignore[override]  # returns the session, as dict |= does
        self.accessed = self.modified = True
        super().update(other)
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


_NO_SECRET_KEY_MSG = (
    "The session is unavailable because no secret key was set. Set the secret_key on the"
    " application to something unique and secret."
)


class NullSession(SecureCookieSession):
    """The session when none can be stored (no ``SECRET_KEY``): empty, and read-only.

    Reading works, so pages that only check the session still render; any write
    raises a :class:`RuntimeError` that says to set the secret key.
    """

    def _fail(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise RuntimeError(_NO_SECRET_KEY_MSG)

    # Every write raises.
    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail
    __ior__ = _fail


class SessionInterface:
    """How the app loads and saves sessions; subclass it to store them elsewhere.

    :meth:`open_session` runs on the first access to ``session`` in a request
    (never, if the request doesn't touch it); :meth:`save_session` runs after
    the response is made, unless the session is a null session. Assign an
    instance to ``app.session_interface``.
    """

    #: What :meth:`make_null_session` returns.
    null_session_class: type[SessionMixin] = NullSession

    #: Whether the session is stored with pickle; informational, for extensions.
    pickle_based = False

    def make_null_session(self, app: Erlen) -> SessionMixin:
        """The session used when :meth:`open_session` returns ``None``.

        Reads work on it; writes raise an error that explains why.
        """
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Whether ``obj`` is a null session, which is never saved."""
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Erlen) -> str:
        """The cookie's name: ``SESSION_COOKIE_NAME``."""
        return t.cast(str, app.config["SESSION_COOKIE_NAME"])

    def get_cookie_domain(self, app: Erlen) -> str | None:
        """The cookie's ``Domain``: ``SESSION_COOKIE_DOMAIN``, or none (this host only)."""
        return app.config["SESSION_COOKIE_DOMAIN"] or None

    def get_cookie_path(self, app: Erlen) -> str:
        """The cookie's ``Path``: ``SESSION_COOKIE_PATH``, else ``APPLICATION_ROOT``."""
        return t.cast(str, app.config["SESSION_COOKIE_PATH"] or app.config["APPLICATION_ROOT"])

    def get_cookie_httponly(self, app: Erlen) -> bool:
        """Whether scripts are kept from the cookie: ``SESSION_COOKIE_HTTPONLY``."""
        return bool(app.config["SESSION_COOKIE_HTTPONLY"])

    def get_cookie_secure(self, app: Erlen) -> bool:
        """Whether the cookie is sent over HTTPS only: ``SESSION_COOKIE_SECURE``."""
        return bool(app.config["SESSION_COOKIE_SECURE"])

    def get_cookie_samesite(self, app: Erlen) -> str | None:
        """The cookie's ``SameSite``: ``SESSION_COOKIE_SAMESITE`` (``"Lax"``, ``"Strict"``...)."""
        return t.cast("str | None", app.config["SESSION_COOKIE_SAMESITE"])

    def get_cookie_partitioned(self, app: Erlen) -> bool:
        """Whether the cookie is ``Partitioned`` (CHIPS): ``SESSION_COOKIE_PARTITIONED``."""
        return bool(app.config["SESSION_COOKIE_PARTITIONED"])

    def get_expiration_time(self, app: Erlen, session: SessionMixin) -> datetime | None:
        """When the cookie expires: now plus ``PERMANENT_SESSION_LIFETIME`` if permanent.

        ``None`` for other sessions, whose cookie ends with the browser session.
        """
        if session.permanent:
            lifetime: timedelta = app.permanent_session_lifetime
            return datetime.now(UTC) + lifetime
        return None

    def should_set_cookie(self, app: Erlen, session: SessionMixin) -> bool:
        """Whether to send the cookie: the session changed, or it is permanent and
        ``SESSION_REFRESH_EACH_REQUEST`` renews its expiry on every request.
        """
        return session.modified or (
            session.permanent and bool(app.config["SESSION_REFRESH_EACH_REQUEST"])
        )

    def open_session(self, app: Erlen, request: Request) -> SessionMixin | None:
        """Load the session for ``request``; ``None`` means use a null session.

        Called on the first access to ``session``, inside the request context.
        """
        raise NotImplementedError

    def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
        """Store the session, usually by setting a cookie on ``response``."""
        raise NotImplementedError


#: The serializer the default session interface uses.
session_json_serializer = TaggedJSONSerializer()


class SecureCookieSessionInterface(SessionInterface):
    """Sessions stored in a cookie signed with ``SECRET_KEY`` (readable, not encrypted).

    Users can decode the cookie but not forge it; don't put secrets in it.
    ``SECRET_KEY_FALLBACKS`` lists old keys still accepted, so the key can be
    rotated without logging everyone out.
    """

    #: Mixed into the signature, so the cookie can't be reused as another signed value.
    salt = "cookie-session"
    #: The hash for the HMAC signature.
    digest_method = staticmethod(hashlib.sha1)
    #: How itsdangerous derives the signing key from the secret key.
    key_derivation = "hmac"
    #: Turns the session into text and back (tagged JSON).
    serializer: t.Any = session_json_serializer
    #: The class of loaded sessions.
    session_class: type[SecureCookieSession] = SecureCookieSession

    # The last serializer built, with what it was built from.
    _cached: tuple[tuple[t.Any, ...], URLSafeTimedSerializer] | None = None

    def get_signing_serializer(self, app: Erlen) -> URLSafeTimedSerializer | None:
        """The itsdangerous serializer for the app's keys; ``None`` without ``SECRET_KEY``."""
        secret_key = app.secret_key
        if not secret_key:
            return None
        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        # SECURITY: itsdangerous signs with the LAST key of the list and tries keys
        # newest (last) first. The current key must come last, after the fallbacks,
        # or cookies get signed with a retired key (CVE-2025-47278).
        keys: list[t.Any] = [*fallbacks, secret_key] if fallbacks else [secret_key]
        # PERF: building the serializer costs more than using it; reuse it while
        # the keys and settings stay the same.
        cache_key = (
            tuple(keys),
            self.salt,
            self.digest_method,
            self.key_derivation,
            self.serializer,
        )
        cached = self._cached
        if cached is not None and cached[0] == cache_key:
            return cached[1]
        signer = URLSafeTimedSerializer(
            keys,
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )
        self._cached = (cache_key, signer)
        return signer

    def open_session(self, app: Erlen, request: Request) -> SecureCookieSession | None:
        """The session from the request's cookie; empty if it is missing or invalid.

        A tampered, expired or undecodable cookie gives a new empty session,
        never an error. Without ``SECRET_KEY`` this returns ``None`` (a null session).
        """
        signer = self.get_signing_serializer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if value:
            max_age = int(app.permanent_session_lifetime.total_seconds())
            try:
                data = signer.loads(value, max_age=max_age)
            except (BadData, ValueError, TypeError):
                # SECURITY: BadData covers tampering, expiry and a payload that
                # verifies but doesn't decode. Start afresh, never fail the request.
                data = None
            if isinstance(data, dict):
                return self.session_class(data)
        session = self.session_class()
        session.new = True
        return session

    def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
        """Set, refresh or delete the cookie, and add ``Vary: Cookie`` as needed."""
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        secure = self.get_cookie_secure(app)
        httponly = self.get_cookie_httponly(app)
        samesite = self.get_cookie_samesite(app)
        partitioned = self.get_cookie_partitioned(app)

        # SECURITY: a response that read the session depends on the cookie;
        # without Vary a shared cache would serve it to other users.
        if session.accessed:
            response.vary.add("Cookie")

        if not session:
            # An emptied session: remove the cookie, with the attributes it was set with.
            if session.modified:
                response.delete_cookie(
                    name,
                    path=path,
                    domain=domain,
                    secure=secure,
                    httponly=httponly,
                    samesite=samesite,
                    partitioned=partitioned,
                )
                response.vary.add("Cookie")
            return

        if not self.should_set_cookie(app, session):
            return

        signer = self.get_signing_serializer(app)
        if signer is None:
            raise RuntimeError(
                "The session cannot be saved because SECRET_KEY was unset during the"
                " request. Keep app.secret_key set while the app serves requests."
            )
        value = signer.dumps(dict(session))
        response.set_cookie(
            name,
            value,
            expires=self.get_expiration_time(app, session),
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )
        # SECURITY: a refreshed cookie is per user too (CVE-2023-30861).
        response.vary.add("Cookie")
