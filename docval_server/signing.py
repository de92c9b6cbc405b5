"""RFC 9421 HTTP message signatures on the result POST (optional, configured per server).

Covered components: ``@method``, ``@target-uri``, ``content-digest`` (RFC 9530, SHA-256)
and ``content-type``, with ``created``, ``keyid`` and ``alg`` parameters. Ed25519 keys sign
as ``ed25519``; ECDSA P-256 keys as ``ecdsa-p256-sha256`` (r ‖ s, RFC 9421 §3.3.4).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .config import ConfigError

COMPONENTS = ("@method", "@target-uri", "content-digest", "content-type")
SigningKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def load_key(path: Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except OSError as exc:
        raise ConfigError(f"signing.key {path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"signing.key {path} is not an unencrypted PEM private key: {exc}") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise ConfigError(f"signing.key {path} must be Ed25519 or ECDSA P-256")


def content_digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def signature_base(method: str, url: str, headers: Mapping[str, str], params: str) -> bytes:
    """The RFC 9421 §2.5 signature base for our covered components."""
    lower = {k.lower(): v for k, v in headers.items()}
    values = {
        "@method": method.upper(),
        "@target-uri": url,
        "content-digest": lower["content-digest"],
        "content-type": lower["content-type"],
    }
    lines = [f'"{name}": {values[name]}' for name in COMPONENTS]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode("utf-8")


def make_signer(key: SigningKey, key_id: str, now: Callable[[], float]) -> Callable[..., dict[str, str]]:
    alg = "ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "ecdsa-p256-sha256"

    def sign(method: str, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, str]:
        added = {"Content-Digest": content_digest(body)}
        inner = " ".join(f'"{c}"' for c in COMPONENTS)
        params = f'({inner});created={int(now())};keyid="{key_id}";alg="{alg}"'
        base = signature_base(method, url, {**headers, **added}, params)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            signature = key.sign(base)
        else:
            r, s = decode_dss_signature(key.sign(base, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        added["Signature-Input"] = f"sig1={params}"
        added["Signature"] = "sig1=:" + base64.b64encode(signature).decode() + ":"
        return added

    return sign
