"""RFC 9421 signatures on the result POST: the Content-Digest (RFC 9530) is right, the
Signature-Input names our components, and the signature verifies over the signature base
with the public key, for Ed25519 and ECDSA P-256."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from docval_server import signing
from docval_server.config import ConfigError

BODY = b'{"validationId":"v-1"}'
URL = "https://results.example/r"


@pytest.mark.parametrize("kind", ["ed25519", "p256"])
def test_signature_verifies_over_the_base(kind: str) -> None:
    """The Signature header verifies over the RFC 9421 base with the signer's public key."""
    key = (
        ed25519.Ed25519PrivateKey.generate() if kind == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    )
    headers = {"Content-Type": "application/json"}
    added = signing.make_signer(key, "docval-test", lambda: 1_700_000_000)("POST", URL, headers, BODY)
    assert (
        added["Content-Digest"]
        == "sha-256=:" + base64.b64encode(hashlib.sha256(BODY).digest()).decode() + ":"
    )
    match = re.fullmatch(r"sig1=(.*)", added["Signature-Input"])
    assert match is not None
    params = match.group(1)
    assert params.startswith('("@method" "@target-uri" "content-digest" "content-type");created=1700000000;')
    assert 'keyid="docval-test"' in params
    base = signing.signature_base("POST", URL, {**headers, **added}, params)
    assert base.splitlines()[0] == b'"@method": POST'
    signature = base64.b64decode(added["Signature"].removeprefix("sig1=:").removesuffix(":"))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        key.public_key().verify(signature, base)
    else:
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        key.public_key().verify(der, base, ec.ECDSA(hashes.SHA256()))


def test_key_loading_errors_are_one_line(tmp_path: Path) -> None:
    """A missing, malformed or unsupported signing key is a ConfigError naming the file."""
    with pytest.raises(ConfigError, match="No such file"):
        signing.load_key(tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="not an unencrypted PEM"):
        signing.load_key(tmp_path / "junk.pem")
    p384 = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "p384.pem").write_bytes(p384)
    with pytest.raises(ConfigError, match="Ed25519 or ECDSA P-256"):
        signing.load_key(tmp_path / "p384.pem")
