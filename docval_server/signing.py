"""RFC 9421 HTTP message signatures on the result POST (optional, configured per server),
made by the ``http-message-signatures`` library.

Covered components: ``@method``, ``@target-uri``, ``content-type`` and ``content-digest``
(RFC 9530, SHA-256, computed over the body); parameters ``created``, ``expires`` (created +
``signing.validity`` seconds), ``nonce`` (16 random bytes, hex), ``keyid`` and ``alg``; label
``sig1``. Keys: Ed25519 (``ed25519``), ECDSA P-256 (``ecdsa-p256-sha256``), ECDSA P-384
(``ecdsa-p384-sha384``), RSA of 2048 bits or more (``rsa-pss-sha512``).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from http_message_signatures import HTTPMessageSigner, HTTPSignatureAlgorithm, MappingKeyResolver, algorithms

from .config import ConfigError

COVERED = ("@method", "@target-uri", "content-type")  # content-digest is added with the body
LABEL = "sig1"
SigningKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def algorithm_for(key: SigningKey) -> type[HTTPSignatureAlgorithm]:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return algorithms.ED25519
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if isinstance(key.curve, ec.SECP256R1):
            return algorithms.ECDSA_P256_SHA256
        if isinstance(key.curve, ec.SECP384R1):
            return algorithms.ECDSA_P384_SHA384
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
        return algorithms.RSA_PSS_SHA512
    raise ConfigError("signing.key must be Ed25519, ECDSA P-256 or P-384, or RSA of 2048 bits or more")


def load_key(path: Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except OSError as exc:
        raise ConfigError(f"signing.key {path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"signing.key {path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise ConfigError(f"signing.key {path} must be Ed25519, ECDSA P-256/P-384 or RSA")
    try:
        algorithm_for(key)
    except ConfigError as exc:
        raise ConfigError(f"{exc} ({path})") from None
    return key


@dataclass
class _Request:
    """The message interface the library signs: method, URL and mutable headers."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


def make_signer(
    key: SigningKey,
    key_id: str,
    now: Callable[[], float],
    *,
    validity: float = 300.0,
    random: Callable[[int], bytes] = os.urandom,
) -> Callable[[str, str, Mapping[str, str], bytes], dict[str, str]]:
    """A function (method, url, headers, body) → the headers to add: Content-Digest,
    Signature-Input and Signature."""
    signer = HTTPMessageSigner(
        signature_algorithm=algorithm_for(key),
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),
    )

    def sign(method: str, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, str]:
        request = _Request(method.upper(), url, dict(headers))
        created = datetime.datetime.fromtimestamp(int(now()), datetime.UTC)
        signer.sign(
            request,
            key_id=key_id,
            created=created,
            expires=created + datetime.timedelta(seconds=validity),
            nonce=random(16).hex(),
            label=LABEL,
            covered_component_ids=COVERED,
            body=body,
        )
        added = ("content-digest", "signature-input", "signature")
        return {name: value for name, value in request.headers.items() if name.lower() in added}

    return sign
