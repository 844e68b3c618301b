"""The debugger PIN: generation, the unlock cookie, and the wrong-PIN lockout.

The PIN is made with :mod:`secrets` (never from machine facts that repeat in
every container), once per supervisor lifetime: a supervisor passes it to its
reloader children in ``ERLEN_DEBUGGER_PIN`` so it stays the same across reloads.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
import threading
import time
import typing as t

#: A PIN the user fixes (digits, dashes allowed), or ``off`` to disable the PIN.
USER_PIN_ENV = "ERLEN_DEBUG_PIN"
#: The PIN a supervisor generated and passes to its serving children.
SUPERVISOR_PIN_ENV = "ERLEN_DEBUGGER_PIN"
#: Optional hex key a supervisor passes so unlock cookies survive reloads.
SUPERVISOR_KEY_ENV = "ERLEN_DEBUGGER_KEY"
#: Wrong PINs tolerated before the console locks until the server restarts.
MAX_ATTEMPTS = 10

_printed = False
_print_lock = threading.Lock()


def generate_pin() -> str:
    """A fresh random 9-digit PIN, formatted ``123-456-789``."""
    digits = f"{secrets.randbelow(10**9):09d}"
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def normalize_pin(value: str) -> str:
    """The PIN without dashes and spaces, so ``123-456-789`` equals ``123456789``."""
    return "".join(value.split()).replace("-", "")


def resolve_pin(environ: t.Mapping[str, str] | None = None) -> str | None:
    """The PIN to use, or ``None`` when it is switched off with ``ERLEN_DEBUG_PIN=off``.

    Order: the user's ``ERLEN_DEBUG_PIN``, the supervisor's ``ERLEN_DEBUGGER_PIN``,
    else a newly generated one.
    """
    env = os.environ if environ is None else environ
    user = env.get(USER_PIN_ENV, "").strip()
    if user:
        if user.lower() == "off":
            return None
        return user
    inherited = env.get(SUPERVISOR_PIN_ENV, "").strip()
    if inherited:
        return inherited
    return generate_pin()


def ensure_supervisor_pin(environ: t.MutableMapping[str, str] | None = None) -> None:
    """For a supervisor: generate the PIN and key once and export them to children.

    Children then read the same PIN, so a reload doesn't ask for a new one.
    """
    env = os.environ if environ is None else environ
    if not env.get(USER_PIN_ENV) and not env.get(SUPERVISOR_PIN_ENV):
        env[SUPERVISOR_PIN_ENV] = generate_pin()
    if not env.get(SUPERVISOR_KEY_ENV):
        env[SUPERVISOR_KEY_ENV] = secrets.token_hex(32)


def _signing_key(environ: t.Mapping[str, str]) -> bytes:
    inherited = environ.get(SUPERVISOR_KEY_ENV, "")
    if len(inherited) >= 32:
        try:
            return bytes.fromhex(inherited)
        except ValueError:
            pass
    return secrets.token_bytes(32)


class PinGuard:
    """Checks PIN attempts, counts wrong ones, and signs/verifies the unlock cookie.

    One per :class:`DebuggedApplication`; thread-safe.
    """

    def __init__(
        self,
        pin: str | None,
        max_age: int = 8 * 3600,
        environ: t.Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.pin = pin
        self.max_age = max_age
        self._key = _signing_key(env)
        self._failures = 0
        self._lock = threading.Lock()
        tag = hmac.new(self._key, b"cookie-name", hashlib.sha256).hexdigest()[:10]
        #: Per-key cookie name: two dev servers on one host don't overwrite each other.
        self.cookie_name = f"__erlen_debugger_{tag}"

    @property
    def enabled(self) -> bool:
        """Whether a PIN is required at all."""
        return self.pin is not None

    @property
    def locked(self) -> bool:
        """Whether too many wrong PINs were entered in this process."""
        return self._failures >= MAX_ATTEMPTS

    def attempt(self, value: str) -> bool:
        """Check one PIN attempt; wrong ones count toward the lockout."""
        with self._lock:
            # SECURITY: once locked, even the right PIN is refused until restart.
            if self.locked or self.pin is None:
                return False
            # SECURITY: constant-time comparison of the normalized PINs.
            ok = hmac.compare_digest(
                normalize_pin(value).encode("utf-8", "replace"),
                normalize_pin(self.pin).encode("utf-8", "replace"),
            )
            if not ok:
                self._failures += 1
            return ok

    @property
    def remaining(self) -> int:
        """Wrong attempts left before the lockout."""
        return max(0, MAX_ATTEMPTS - self._failures)

    def _mac(self, issued: str) -> str:
        pin = normalize_pin(self.pin or "").encode()
        return hmac.new(self._key, issued.encode() + b"|" + pin, hashlib.sha256).hexdigest()

    def make_cookie_value(self, now: float | None = None) -> str:
        """A signed ``issued|mac`` value proving the PIN was entered."""
        issued = str(int(time.time() if now is None else now))
        return f"{issued}|{self._mac(issued)}"

    def check_cookie_value(self, value: str | None, now: float | None = None) -> bool:
        """Whether ``value`` is an unexpired cookie made by :meth:`make_cookie_value`."""
        if self.pin is None:
            return True
        if not value or "|" not in value:
            return False
        issued, _, mac = value.partition("|")
        if not issued.isdigit():
            return False
        # SECURITY: the signature covers the issue time and the PIN; compare in constant time.
        if not hmac.compare_digest(mac.encode(), self._mac(issued).encode()):
            return False
        age = (time.time() if now is None else now) - int(issued)
        # SECURITY: expired cookies (or ones from the future) don't unlock.
        return -60 <= age <= self.max_age

    def cookie_header(self) -> str:
        """The ``Set-Cookie`` value after a right PIN: HttpOnly, SameSite=Strict."""
        return (
            f"{self.cookie_name}={self.make_cookie_value()}; Max-Age={self.max_age};"
            " Path=/; HttpOnly; SameSite=Strict"
        )


def log_pin(pin: str | None, evalex: bool, stream: t.TextIO | None = None) -> None:
    """Print that the debugger is active, and the PIN, once per process.

    Printed (not logged) so a logging configuration can't hide it.
    """
    global _printed
    out = sys.stderr if stream is None else stream
    with _print_lock:
        if _printed:
            return
        _printed = True
    print(" * Debugger is active!", file=out, flush=True)
    if not evalex:
        return
    if pin is None:
        print(
            " * WARNING: the debugger PIN is OFF (ERLEN_DEBUG_PIN=off or pin_security=False)."
            " Anyone who can reach this server can run code on this machine."
            " Unset ERLEN_DEBUG_PIN to turn the PIN back on.",
            file=out,
            flush=True,
        )
    else:
        print(f" * Debugger PIN: {pin}", file=out, flush=True)
