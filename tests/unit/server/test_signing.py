"""RFC 9421 signatures on the result POST, verified the way a result server would: with the
http-message-signatures library's verifier and the signer's public key, for every key kind,
with created/expires/nonce signed and the Content-Digest (RFC 9530) matching the body."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from http_message_signatures import HTTPMessageVerifier, InvalidSignature, MappingKeyResolver

from docval_server import signing
from docval_server.config import ConfigError

BODY = b'{"validationId":"v-1"}'
URL = "https://results.example/r"
KEYS: dict[str, Callable[[], signing.SigningKey]] = {
    "ed25519": lambda: ed25519.Ed25519PrivateKey.generate(),
    "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "rsa-pss": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
}


class Received:
    """The request as the result server sees it."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.method, self.url, self.headers = "POST", URL, headers


def _verify(key: Any, headers: dict[str, str], body: bytes) -> Any:
    verifier = HTTPMessageVerifier(
        signature_algorithm=signing.algorithm_for(key),
        key_resolver=MappingKeyResolver(public_keys={"docval-test": key.public_key()}, private_keys={}),
    )
    message = Received(headers)
    results = verifier.verify(message)
    return verifier.verify_body(message, results, body)


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_result_server_verifies_the_signature(kind: str) -> None:
    """The library's verifier accepts the signature and the body digest; the signed
    parameters hold created, expires, a nonce, keyid and alg."""
    key = KEYS[kind]()
    headers = {"Content-Type": "application/json"}
    added = signing.make_signer(key, "docval-test", time.time)("POST", URL, headers, BODY)
    digest = "sha-256=:" + base64.b64encode(hashlib.sha256(BODY).digest()).decode() + ":"
    assert added["Content-Digest"] == digest
    (result,) = _verify(key, {**headers, **added}, BODY)
    params = result.parameters
    assert params["keyid"] == "docval-test" and params["alg"] == signing.algorithm_for(key).algorithm_id
    assert params["expires"] - params["created"] == 300 and len(params["nonce"]) == 32
    assert {'"@method"', '"@target-uri"', '"content-type"', '"content-digest"'} <= set(
        result.covered_components
    )


def test_a_changed_body_or_an_expired_signature_is_refused() -> None:
    """Another body fails the digest check; a signature past its expires fails verification."""
    key = ed25519.Ed25519PrivateKey.generate()
    headers = {"Content-Type": "application/json"}
    added = signing.make_signer(key, "docval-test", time.time)("POST", URL, headers, BODY)
    with pytest.raises(Exception):  # noqa: B017 - the library's digest error
        _verify(key, {**headers, **added}, BODY + b" ")
    old = signing.make_signer(key, "docval-test", lambda: time.time() - 3600, validity=60)
    with pytest.raises(InvalidSignature):
        _verify(key, {**headers, **old("POST", URL, headers, BODY)}, BODY)


def test_key_loading_errors_are_one_line(tmp_path: Path) -> None:
    """A missing, malformed or unsupported signing key is a ConfigError naming the file."""
    with pytest.raises(ConfigError, match="No such file"):
        signing.load_key(tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="not an unencrypted PEM"):
        signing.load_key(tmp_path / "junk.pem")
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "rsa1024.pem").write_bytes(small)
    with pytest.raises(ConfigError, match="2048 bits"):
        signing.load_key(tmp_path / "rsa1024.pem")
