"""A throw-away certificate authority for the transport-security tests: the clients must load the CA a
deployment gives them (KIWI_DB_SSL_CA, KIWI_KAFKA_SSL_CAFILE), so the tests hand them a real one."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CA_NAME = "kiwi-shop test CA"


def write_ca(directory: Path) -> Path:
    """A self-signed CA certificate (PEM) in ``directory``; its key is thrown away."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = directory / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def trusted_names(context: ssl.SSLContext) -> set[str]:
    """The common names of the CAs ``context`` trusts (those loaded from files; the system's load lazily)."""
    names: set[str] = set()
    for cert in context.get_ca_certs():
        subject: Any = cert.get("subject", ())  # ((("commonName", "…"),), …)
        names.update(value for rdn in subject for key, value in rdn if key == "commonName")
    return names
