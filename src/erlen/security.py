"""Password hashing with the standard library: scrypt and PBKDF2, in Werkzeug's format.

Hashes look like ``scrypt:32768:8:1$<salt>$<hex>`` or
``pbkdf2:sha256:600000$<salt>$<hex>``, the strings Flask applications store,
so hashes already in a database keep verifying after the port.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

# COMPAT: ``werkzeug.security.safe_join`` ports as ``erlen.security.safe_join``; there is
# one hardened joiner, in erlen.http.files.
from .http.files import safe_join as safe_join

#: The characters salts are drawn from (letters and digits, so a salt never
#: contains the ``$`` separator).
SALT_CHARS = string.ascii_letters + string.digits

#: PBKDF2 iterations when the method string gives none.
DEFAULT_PBKDF2_ITERATIONS = 600_000

# scrypt's defaults: N (CPU/memory cost), r (block size), p (parallelism).
_SCRYPT_DEFAULTS = (2**15, 8, 1)
# SECURITY: the most memory one scrypt call may take (CPython's own limit for
# ``maxmem``); a stored hash asking for more fails instead of exhausting memory.
_SCRYPT_MAX_MEM = 2**31 - 1


def gen_salt(length: int) -> str:
    """A random string of ``length`` letters and digits, from :mod:`secrets`."""
    if length <= 0:
        raise ValueError(f"Salt length must be at least 1, got {length!r}.")
    return "".join(secrets.choice(SALT_CHARS) for _ in range(length))


def _hash_internal(method: str, salt: str, password: str) -> tuple[str, str]:
    # The hex digest of ``password`` and the method string with every parameter
    # spelled out (stored in the hash, so changing defaults never breaks old hashes).
    name, *args = method.split(":")
    salt_bytes = salt.encode()
    password_bytes = password.encode()
    if name == "scrypt":
        if not args:
            n, r, p = _SCRYPT_DEFAULTS
        else:
            try:
                n, r, p = (int(arg) for arg in args)
            except ValueError:
                raise ValueError(
                    f"Invalid hash method {method!r}: 'scrypt' takes three integers,"
                    " as in 'scrypt:32768:8:1' (N, r, p)."
                ) from None
        if n < 2 or n & (n - 1) or r < 1 or p < 1:
            raise ValueError(
                f"Invalid hash method {method!r}: scrypt's N must be a power of two"
                " greater than 1, and r and p at least 1."
            )
        # OpenSSL needs 128 * r * (N + p + 2) bytes; the rest is slack.
        maxmem = min(128 * r * (n + p + 2) + 1024 * 1024, _SCRYPT_MAX_MEM)
        digest = hashlib.scrypt(password_bytes, salt=salt_bytes, n=n, r=r, p=p, maxmem=maxmem)
        return digest.hex(), f"scrypt:{n}:{r}:{p}"
    if name == "pbkdf2":
        if len(args) > 2:
            raise ValueError(
                f"Invalid hash method {method!r}: 'pbkdf2' takes at most a hash name"
                " and an iteration count, as in 'pbkdf2:sha256:600000'."
            )
        hash_name = args[0] if args else "sha256"
        try:
            iterations = int(args[1]) if len(args) == 2 else DEFAULT_PBKDF2_ITERATIONS
        except ValueError:
            raise ValueError(
                f"Invalid hash method {method!r}: the iteration count must be an integer."
            ) from None
        if iterations < 1:
            raise ValueError(
                f"Invalid hash method {method!r}: the iteration count must be at least 1."
            )
        try:
            digest = hashlib.pbkdf2_hmac(hash_name, password_bytes, salt_bytes, iterations)
        except ValueError:
            raise ValueError(
                f"Invalid hash method {method!r}: {hash_name!r} is not a hash"
                " hashlib supports here. Use 'sha256' or 'sha512'."
            ) from None
        return digest.hex(), f"pbkdf2:{hash_name}:{iterations}"
    raise ValueError(
        f"Invalid hash method {method!r}. Use 'scrypt' or 'pbkdf2', optionally with"
        " parameters ('scrypt:32768:8:1', 'pbkdf2:sha256:600000')."
    )


def generate_password_hash(password: str, method: str = "scrypt", salt_length: int = 16) -> str:
    """Hash ``password`` with a fresh random salt, for storing instead of the password.

    ``method`` is ``"scrypt"`` or ``"pbkdf2"``, optionally with parameters:
    ``"scrypt:N:r:p"``, ``"pbkdf2:hash_name:iterations"``. The result records the
    method, its parameters and the salt, so :func:`check_password_hash` needs
    nothing else.
    """
    salt = gen_salt(salt_length)
    digest, actual_method = _hash_internal(method, salt, password)
    return f"{actual_method}${salt}${digest}"


def check_password_hash(pwhash: str, password: str) -> bool:
    """Whether ``password`` matches ``pwhash`` from :func:`generate_password_hash`.

    A malformed or unsupported stored hash is ``False``, never an exception, so
    one bad database row cannot turn a login into a 500.
    """
    try:
        method, salt, expected = pwhash.split("$", 2)
    except (ValueError, AttributeError):
        return False
    try:
        digest, _ = _hash_internal(method, salt, password)
    except (ValueError, OverflowError, MemoryError):
        return False
    # SECURITY: constant-time comparison, so timing reveals nothing of the hash.
    return hmac.compare_digest(digest.encode(), expected.encode())
