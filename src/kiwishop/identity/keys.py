"""Identity's signing key and the public keys it publishes (the JWKS), with RFC 7638 thumbprints as ``kid``:
the same key always gets the same kid, so rotating needs no kid configuration."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey
PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: PublicKey) -> dict[str, Any]:
    """The public key as a JWK with its ``kid`` (RFC 7638 thumbprint), ``alg`` and ``use``."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        jwk: dict[str, Any] = OKPAlgorithm.to_jwk(key, as_dict=True)
        alg = "EdDSA"
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ValueError(f"an RSA key of {key.key_size} bits is too small (2048 at least)")
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
        alg = "RS256"
    else:
        raise ValueError(f"unsupported key type {type(key).__name__}: Ed25519 or RSA")
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return {**jwk, "kid": _b64(hashlib.sha256(canonical).digest()), "alg": alg, "use": "sig"}


@dataclass(frozen=True)
class SigningKeys:
    private_key: PrivateKey
    kid: str
    algorithm: str
    published: tuple[dict[str, Any], ...]  # the current key's JWK first, then the previous ones

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(jwk) for jwk in self.published]}


def _unescaped(pem: str) -> str:
    """A PEM as one line with ``\\n`` escapes (how an env file holds it) is the same PEM."""
    return pem.replace("\\n", "\n").strip() + "\n"


def load_private_key(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(_unescaped(pem).encode(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise ValueError(f"unsupported signing key type {type(key).__name__}: Ed25519 or RSA")
    return key


def load_public_keys(pems: str) -> list[PublicKey]:
    keys: list[PublicKey] = []
    for block in _PEM_BLOCK.findall(_unescaped(pems)):
        key = serialization.load_pem_public_key(block.encode())
        if not isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
            raise ValueError(f"unsupported public key type {type(key).__name__}: Ed25519 or RSA")
        keys.append(key)
    return keys


def signing_keys(private_pem: str, previous_public_pems: str = "") -> SigningKeys:
    private_key = load_private_key(private_pem)
    current = public_jwk(private_key.public_key())
    previous = [public_jwk(key) for key in load_public_keys(previous_public_pems)]
    published = [current, *(jwk for jwk in previous if jwk["kid"] != current["kid"])]
    return SigningKeys(private_key, current["kid"], current["alg"], tuple(published))


def generate_private_pem() -> str:
    """A new Ed25519 private key, PKCS#8 PEM."""
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(private_pem: str) -> str:
    """The public key of a private key, SubjectPublicKeyInfo PEM (what ``previous_public_keys`` takes)."""
    key = load_private_key(private_pem).public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
