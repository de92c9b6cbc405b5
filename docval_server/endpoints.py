"""Listening endpoints from Twisted endpoint strings, with TLS made strict by default.

``tcp:…`` and ``unix:…`` go to Twisted's own parser. ``ssl:PORT:privateKey=K:certKey=C``
(optionally ``interface=…`` and ``extraCertChain=…``, as Twisted's ``ssl:`` strings) is built
here so that the TLS settings are ours: TLS 1.3 preferred (OpenSSL picks the highest version
both sides have; its 1.3 suites are all AEAD with forward secrecy), and on TLS 1.2 only
the suites of ``server.tls_ciphers`` — by default ECDHE with AES-GCM or ChaCha20-Poly1305
(forward secret, AEAD; no CBC, no SHA-1 MAC, no static RSA key exchange).
``server.tls_min_version`` ("1.2" or "1.3") raises the floor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twisted.internet import endpoints, ssl
from twisted.internet.interfaces import IStreamServerEndpoint

DEFAULT_TLS_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
TLS_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


class EndpointError(ValueError):
    """A listening endpoint string or its TLS settings are wrong (one line, naming it)."""


def fields(description: str) -> list[str]:
    """Split an endpoint string at colons not escaped with a backslash, as Twisted does."""
    fields, current, escaped = [], "", False
    for char in description:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append(current)
            current = ""
        else:
            current += char
    fields.append(current)
    return fields


def tls_options(
    private_key: Path, certificate: Path, chain: Path | None, ciphers: str, min_version: str
) -> ssl.CertificateOptions:
    try:
        cert_pem = certificate.read_bytes()
        key_pem = private_key.read_bytes()
        extra = ssl.Certificate.loadPEM(chain.read_bytes()) if chain else None
    except OSError as exc:
        raise EndpointError(f"cannot read TLS key or certificate: {exc.strerror or exc}") from None
    if min_version not in TLS_VERSIONS:
        raise EndpointError(f"tls_min_version must be one of {', '.join(TLS_VERSIONS)}")
    try:
        pair = ssl.PrivateCertificate.loadPEM(cert_pem + b"\n" + key_pem)  # type: ignore[no-untyped-call]
        accepted = ssl.AcceptableCiphers.fromOpenSSLCipherString(ciphers)  # type: ignore[no-untyped-call]
    except Exception as exc:  # pyOpenSSL raises its own errors for bad PEM  # noqa: BLE001
        raise EndpointError(f"bad TLS key or certificate: {exc}") from None
    try:
        options = ssl.CertificateOptions(
            privateKey=pair.privateKey.original,
            certificate=pair.original,
            extraCertChain=[extra.original] if extra else None,
            acceptableCiphers=accepted,
            raiseMinimumTo=TLS_VERSIONS[min_version],
        )
        options.getContext()  # fails now, not at the first client, if nothing is selected
    except Exception as exc:  # noqa: BLE001
        raise EndpointError(f"tls_ciphers {ciphers!r}: {exc}") from None
    return options


def tls_context_of(description: str, ciphers: str, min_version: str) -> ssl.CertificateOptions:
    """The strict TLS options of an ``ssl:`` endpoint string's key and certificate."""
    options = dict(part.partition("=")[::2] for part in fields(description)[2:])
    if "privateKey" not in options:
        raise EndpointError(f"bad endpoint {description!r}: privateKey= is required")
    key_path = Path(options["privateKey"])
    cert_path = Path(options.get("certKey", options["privateKey"]))
    chain = Path(options["extraCertChain"]) if "extraCertChain" in options else None
    return tls_options(key_path, cert_path, chain, ciphers, min_version)


def server_endpoint(
    reactor: Any, description: str, *, ciphers: str = DEFAULT_TLS_CIPHERS, min_version: str = "1.2"
) -> IStreamServerEndpoint:
    """The endpoint for ``description``; ``ssl:`` strings get the strict TLS options."""
    if not description.startswith("ssl:"):
        try:
            endpoint: IStreamServerEndpoint = endpoints.serverFromString(  # type: ignore[no-untyped-call]
                reactor, description
            )
            return endpoint
        except (ValueError, TypeError, KeyError) as exc:
            raise EndpointError(f"bad endpoint {description!r}: {exc}") from None
    parts = fields(description)[1:]
    if not parts or not parts[0].isdigit():
        raise EndpointError(f"bad endpoint {description!r}: ssl:PORT:privateKey=…:certKey=…")
    options: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition("=")
        if not sep:
            raise EndpointError(f"bad endpoint {description!r}: {part!r} is not key=value")
        options[key] = value
    unknown = set(options) - {"interface", "privateKey", "certKey", "extraCertChain", "backlog"}
    if unknown:
        raise EndpointError(f"bad endpoint {description!r}: unknown option {sorted(unknown)[0]!r}")
    context = tls_context_of(description, ciphers, min_version)
    tls: IStreamServerEndpoint = endpoints.SSL4ServerEndpoint(  # type: ignore[no-untyped-call, assignment]
        reactor,
        int(parts[0]),
        context,
        backlog=int(options.get("backlog", 50)),
        interface=options.get("interface", ""),
    )
    return tls
