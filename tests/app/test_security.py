"""Tests for erlen.security: password hashes in Werkzeug's format, built on hashlib."""

from __future__ import annotations

import hashlib
import string

import pytest

from erlen import security
from erlen.http import files
from erlen.security import DEFAULT_PBKDF2_ITERATIONS
from erlen.security import SALT_CHARS
from erlen.security import check_password_hash
from erlen.security import gen_salt
from erlen.security import generate_password_hash

# Cheap parameters keep the suite fast; the defaults get one test each.
FAST_SCRYPT = "scrypt:1024:8:1"
FAST_PBKDF2 = "pbkdf2:sha256:1000"


def test_gen_salt() -> None:
    salt = gen_salt(32)
    assert len(salt) == 32
    assert set(salt) <= set(string.ascii_letters + string.digits)
    assert set(SALT_CHARS) == set(string.ascii_letters + string.digits)
    assert gen_salt(32) != salt
    assert len(gen_salt(1)) == 1


@pytest.mark.parametrize("length", [0, -1])
def test_gen_salt_rejects_non_positive(length: int) -> None:
    with pytest.raises(ValueError, match=f"Salt length must be at least 1, got {length}"):
        gen_salt(length)


def test_default_scrypt_format_and_roundtrip() -> None:
    pwhash = generate_password_hash("s3cret")
    method, salt, digest = pwhash.split("$")
    assert method == "scrypt:32768:8:1"
    assert len(salt) == 16
    assert len(digest) == 128  # 64 bytes, hex
    assert int(digest, 16) >= 0
    assert check_password_hash(pwhash, "s3cret") is True  # the slow part: one real scrypt


def test_pbkdf2_default_iterations(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_PBKDF2_ITERATIONS == 600_000
    # The default is read at call time; a small value keeps the test fast.
    monkeypatch.setattr(security, "DEFAULT_PBKDF2_ITERATIONS", 1234)
    pwhash = generate_password_hash("pw", method="pbkdf2", salt_length=8)
    method, salt, digest = pwhash.split("$")
    assert method == "pbkdf2:sha256:1234"
    assert len(salt) == 8
    assert digest == hashlib.pbkdf2_hmac("sha256", b"pw", salt.encode(), 1234).hex()
    assert generate_password_hash("pw", method="pbkdf2:sha512").startswith("pbkdf2:sha512:1234$")


@pytest.mark.parametrize(
    ("method", "stored_method"),
    [
        (FAST_SCRYPT, FAST_SCRYPT),
        ("scrypt:2048:4:2", "scrypt:2048:4:2"),
        (FAST_PBKDF2, FAST_PBKDF2),
        ("pbkdf2:sha512:1000", "pbkdf2:sha512:1000"),
    ],
)
def test_methods_with_parameters(method: str, stored_method: str) -> None:
    pwhash = generate_password_hash("pässwörd", method=method, salt_length=4)
    assert pwhash.startswith(stored_method + "$")
    assert len(pwhash.split("$")[1]) == 4
    assert check_password_hash(pwhash, "pässwörd") is True
    assert check_password_hash(pwhash, "passwörd") is False


def test_salts_differ_so_hashes_differ() -> None:
    first = generate_password_hash("same", method=FAST_PBKDF2)
    second = generate_password_hash("same", method=FAST_PBKDF2)
    assert first != second
    assert check_password_hash(first, "same")
    assert check_password_hash(second, "same")


def test_verifies_pbkdf2_hash_computed_by_hand() -> None:
    # What a Flask/Werkzeug app stores: pbkdf2:<hash>:<iterations>$<salt>$<hex>.
    salt = "NaCl4Werkzeug"
    digest = hashlib.pbkdf2_hmac("sha256", b"hunter2", salt.encode(), 1000).hex()
    stored = f"pbkdf2:sha256:1000${salt}${digest}"
    assert check_password_hash(stored, "hunter2") is True
    assert check_password_hash(stored, "hunter3") is False


def test_verifies_pbkdf2_with_implied_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    # Older hashes spell only "pbkdf2" or "pbkdf2:sha1"; the defaults fill in the rest.
    monkeypatch.setattr(security, "DEFAULT_PBKDF2_ITERATIONS", 1500)
    salt = "abc"
    sha1 = hashlib.pbkdf2_hmac("sha1", b"pw", salt.encode(), 1500).hex()
    sha256 = hashlib.pbkdf2_hmac("sha256", b"pw", salt.encode(), 1500).hex()
    assert check_password_hash(f"pbkdf2:sha1${salt}${sha1}", "pw") is True
    assert check_password_hash(f"pbkdf2${salt}${sha256}", "pw") is True
    assert check_password_hash(f"pbkdf2${salt}${sha1}", "pw") is False


def test_verifies_scrypt_hash_computed_by_hand() -> None:
    salt = "saltysalt"
    digest = hashlib.scrypt(
        b"correct horse", salt=salt.encode(), n=1024, r=8, p=1, maxmem=64 * 1024 * 1024
    ).hex()
    stored = f"scrypt:1024:8:1${salt}${digest}"
    assert check_password_hash(stored, "correct horse") is True
    assert check_password_hash(stored, "correct horses") is False


def test_verifies_rfc7914_scrypt_vector() -> None:
    # RFC 7914's test vector (P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64),
    # pinned as a stored hash: independent of hashlib in this test.
    digest = (
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
        "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
    )
    assert check_password_hash(f"scrypt:1024:8:16$NaCl${digest}", "password") is True


@pytest.mark.parametrize(
    "method",
    [
        "md5",
        "sha256",
        "plain",
        "scrypt:1024:8",
        "scrypt:a:b:c",
        "scrypt:1000:8:1",
        "scrypt:1024:0:1",
        "pbkdf2:sha256:many",
        "pbkdf2:sha256:0",
        "pbkdf2:sha256:1:2",
        "pbkdf2:no-such-hash:1000",
        "",
    ],
)
def test_invalid_method_raises_naming_it(method: str) -> None:
    with pytest.raises(ValueError, match=f"Invalid hash method '{method}'"):
        generate_password_hash("pw", method=method)


@pytest.mark.parametrize(
    "pwhash",
    [
        "",
        "no-dollars",
        "pbkdf2:sha256:1000$onlysalt",
        "md5$salt$deadbeef",
        "scrypt:x:y:z$salt$00",
        "scrypt:3:8:1$salt$00",
        "pbkdf2:nohash:1000$salt$00",
        "pbkdf2:sha256:-5$salt$00",
        # SECURITY: absurd stored parameters fail fast instead of exhausting memory.
        "scrypt:1073741824:8:1$salt$00",
        "scrypt:99999999999999999999999:8:1$salt$00",
    ],
)
def test_malformed_stored_hash_is_false(pwhash: str) -> None:
    assert check_password_hash(pwhash, "pw") is False


def test_non_string_stored_hash_is_false() -> None:
    assert check_password_hash(None, "pw") is False  # type: ignore[arg-type]


def test_wrong_digest_length_or_case_is_false() -> None:
    stored = generate_password_hash("pw", method=FAST_PBKDF2)
    assert check_password_hash(stored[:-2], "pw") is False
    assert check_password_hash(stored + "00", "pw") is False
    method, salt, digest = stored.split("$")
    assert check_password_hash(f"{method}${salt}${digest}", "pw") is True
    assert check_password_hash(f"{method}${salt}x${digest}", "pw") is False


def test_safe_join_is_the_one_hardened_joiner() -> None:
    assert security.safe_join is files.safe_join
    assert security.safe_join("/srv", "../etc/passwd") is None
