"""TLS for the development server: contexts and self-signed certificates.

``cryptography`` is imported only when a certificate is generated.
"""

from __future__ import annotations

import os
import ssl
import typing as t

SSLContextArg: t.TypeAlias = "ssl.SSLContext | tuple[str, str] | t.Literal['adhoc'] | None"


def _strip_brackets(host: str) -> str:
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _need_cryptography() -> t.Any:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise RuntimeError(
            "An ad-hoc TLS certificate needs the 'cryptography' package."
            " Install it with `pip install cryptography` (or `pip install"
            " erlen[tls]`), or pass ssl_context=(certfile, keyfile)."
        ) from None


def _generate_cert_pair(host: str | None) -> tuple[bytes, bytes]:
    """A self-signed certificate and key (PEM) for ``host`` and localhost."""
    _need_cryptography()
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    common_name = host or "localhost"
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "erlen development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )
    alt: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for ip in ("127.0.0.1", "::1"):
        alt.append(x509.IPAddress(ipaddress.ip_address(ip)))
    if host and host not in ("localhost", "127.0.0.1", "::1", "*"):
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(_strip_brackets(host))))
        except ValueError:
            alt.append(x509.DNSName(host))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert_pem, key_pem


def make_ssl_devcert(base_path: str, host: str | None = None) -> tuple[str, str]:
    """Write a self-signed certificate to ``base_path.crt`` and ``base_path.key``.

    Generate once and reuse, so a browser's exception for it keeps working.
    Returns the two paths, ready for ``ssl_context=(crt, key)``.
    """
    cert_pem, key_pem = _generate_cert_pair(host)
    cert_file = f"{base_path}.crt"
    key_file = f"{base_path}.key"
    with open(cert_file, "wb") as f:
        f.write(cert_pem)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    return cert_file, key_file


def load_ssl_context(cert_file: str, pkey_file: str | None = None) -> ssl.SSLContext:
    """A server-side TLS context from a certificate and key file."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, pkey_file)
    return context


def generate_adhoc_ssl_context(host: str | None = None) -> ssl.SSLContext:
    """A TLS context with a fresh self-signed certificate (needs cryptography)."""
    import tempfile

    cert_pem, key_pem = _generate_cert_pair(host)
    with tempfile.TemporaryDirectory(prefix="erlen-adhoc-") as tmp:
        cert_file = os.path.join(tmp, "adhoc.crt")
        key_file = os.path.join(tmp, "adhoc.key")
        with open(cert_file, "wb") as f:
            f.write(cert_pem)
        with open(key_file, "wb") as f:
            f.write(key_pem)
        return load_ssl_context(cert_file, key_file)


def resolve_ssl_context(value: SSLContextArg, host: str) -> ssl.SSLContext | None:
    if value is None or isinstance(value, ssl.SSLContext):
        return value
    if value == "adhoc":
        return generate_adhoc_ssl_context(host)
    if isinstance(value, tuple) and len(value) == 2:
        return load_ssl_context(value[0], value[1])
    raise TypeError(
        f"Invalid ssl_context {value!r}: pass an ssl.SSLContext, a"
        " (certfile, keyfile) tuple or 'adhoc'."
    )
