#!/usr/bin/env python3
"""Server-side cost of a validation session, in process; numbers only.

    .venv/bin/python benchmarks/server.py [--sessions 200]

* server CPU per full session (START → CA relay → FILEs → FINISH → PA/AA/CA checks → result),
  driven through the sans-I/O session by in-process clients reading virtual chips, for a
  P-256/RSA profile (``utopia-bac``: RSA-PSS SOD by an RSA-2048 DSC, ECDH P-256 CA, RSA-2048
  AA) and a brainpool profile (``utopia``: ECDSA SOD by a brainpoolP384r1 DSC, ECDH
  brainpoolP256r1 CA, RSA-1024 AA); p50/p99 per session, caches warm (a production server
  sees the same DSCs again and again);
* in the same run, the per-session crypto floor with the profile's real keys: the bare
  ``cryptography`` operations a session cannot avoid once the DSC chain is cached (the SOD
  signature, the CA key generation and agreement, the AA public-key operation), each timed
  for ``--floor-seconds`` in alternating bursts (the best burst of each: noise only slows);
  and the ratio. The same operations are also timed once after each session, when the
  client's work has left the CPU caches cold (a busy server's sessions do that to each
  other): the same C code then costs 1.2-3× its warm figure, and so does the session's own
  crypto, which is why both ratios are printed;
* Passive Authentication alone (``emrtd.passiveauth.verify``, warm) next to a minimal
  verifier on the same files written with ``cryptography`` and a bare TLV walk (messageDigest,
  SOD signature, data-group hashes, the DSC→CSCA signature remembered by DER hash as ours is);
* CA_HANDOVER → CA_HANDBACK in relayed APDUs and flights (``benchmarks/ca_relay.py`` times
  it over WebSockets with latency).

Client work (reading the chip) is excluded from the server figures: only time spent inside
the session's event handlers is counted.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime

from _timing import side_by_side
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from docval_server.session import ServerSession
from emrtd import passiveauth, pubkey, tlv
from emrtd.docval import wire
from emrtd.lds import dg14, dg15
from emrtd.pubkey import ECPublicKey
from emrtd.signatures import HASHES
from emrtd.sim import pki, profiles, testpki
from emrtd.sim.chip import VirtualChip
from emrtd.truststore import TrustStore


class TimedSession(ServerSession):
    """Counts the CPU time spent in the session's handlers."""

    spent = 0.0

    def _timed(self, name: str, *args: object) -> object:
        start = time.process_time()
        try:
            return getattr(super(), name)(*args)
        finally:
            self.spent += time.process_time() - start

    def receive_text(self, data: str | bytes) -> object:  # type: ignore[override]
        return self._timed("receive_text", data)

    def receive_binary(self, data: bytes) -> object:  # type: ignore[override]
        return self._timed("receive_binary", data)


def run_sessions(
    profile: str, count: int, trust: TrustStore, after_each: Callable[[], object] | None = None
) -> list[float]:
    from tests.unit.server.test_session import ScriptedClient  # the unit tests' vendor-like client

    config = profiles.load(profile)
    costs = []
    for index in range(count):
        if after_each is not None and index:
            after_each()
        session = TimedSession(
            known_clients=lambda cid: True, trust=trust, random=os.urandom, now=lambda: pki.utc(2026, 6, 1)
        )
        client = ScriptedClient(session, VirtualChip(config))
        client.run()
        assert session.result is not None and session.result["passiveAuthentication"], index
        costs.append(session.spent)
    return costs


OID_HASH = {
    bytes.fromhex("2b0e03021a"): "sha1",
    bytes.fromhex("608648016503040204"): "sha224",
    bytes.fromhex("608648016503040201"): "sha256",
    bytes.fromhex("608648016503040202"): "sha384",
    bytes.fromhex("608648016503040203"): "sha512",
}
OID_MESSAGE_DIGEST = bytes.fromhex("2a864886f70d010904")


class MinimalSod:
    """EF.SOD taken apart with a bare TLV walk: what a minimal verifier needs, nothing more."""

    def __init__(self, raw: bytes) -> None:
        content_info = tlv.decode_single(raw, der=False).children(der=False)[0]
        signed = content_info.children(der=False)[1].children(der=False)[0].children(der=False)
        encap = signed[2].children(der=False)
        self.econtent = encap[1].children(der=False)[0].value
        certs = [c for c in signed if c.tag == 0xA0][0].children(der=False)
        self.dsc_der = certs[0].encode()
        signer = [c for c in signed if c.tag == 0x31][-1].children(der=False)[0].children(der=False)
        self.digest = OID_HASH[signer[2].children(der=False)[0].value]
        attrs = signer[3]
        self.signed_bytes = b"\x31" + attrs.encode()[1:]
        self.message_digest = next(
            a.children(der=False)[1].children(der=False)[0].value
            for a in attrs.children(der=False)
            if a.children(der=False)[0].value == OID_MESSAGE_DIGEST
        )
        self.signature = signer[5].value
        lso = tlv.decode_single(self.econtent, der=False).children(der=False)
        self.lso_digest = OID_HASH[lso[1].children(der=False)[0].value]
        self.hashes = {
            int.from_bytes(item.children(der=False)[0].value, "big"): item.children(der=False)[1].value
            for item in lso[2].children(der=False)
        }


def dsc_public_key(dsc_der: bytes) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    """The DSC's key as a ``cryptography`` object (explicit brainpool parameters, which
    ``cryptography`` refuses, are matched to the named curve by emrtd: done once per DSC)."""
    from asn1crypto import x509 as asn1_x509

    info = asn1_x509.Certificate.load(dsc_der)["tbs_certificate"]["subject_public_key_info"].dump()
    key = pubkey.parse_spki(info)
    if isinstance(key, ECPublicKey):
        return key.to_cryptography()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def minimal_verifier(trust: TrustStore, at: datetime) -> Callable[[dict[str, bytes]], bool]:
    """PA with ``cryptography`` and a TLV walk: messageDigest, SOD signature, DG hashes, DSC
    validity. The DSC→CSCA link is checked once per DSC and remembered by its DER's hash, as
    ours is (with emrtd's trust store: ``cryptography`` cannot load explicit-parameter CSCA
    keys), so it costs the steady state nothing."""
    known: dict[bytes, tuple[x509.Certificate, rsa.RSAPublicKey | ec.EllipticCurvePublicKey]] = {}

    def verify(files: dict[str, bytes]) -> bool:
        sod = MinimalSod(files["sod"])
        key = hashlib.sha256(sod.dsc_der).digest()
        if key not in known:
            from asn1crypto import x509 as asn1_x509

            cert = asn1_x509.Certificate.load(sod.dsc_der)
            assert any(c.verifies(cert, "DSC") for c in trust.issuers_of(cert))
            known[key] = x509.load_der_x509_certificate(sod.dsc_der), dsc_public_key(sod.dsc_der)
        dsc, public = known[key]
        if not dsc.not_valid_before_utc <= at <= dsc.not_valid_after_utc:
            return False
        if hashlib.new(sod.digest, sod.econtent).digest() != sod.message_digest:
            return False
        if isinstance(public, rsa.RSAPublicKey):
            pss = padding.PSS(padding.MGF1(HASHES[sod.digest]()), padding.PSS.AUTO)
            public.verify(sod.signature, sod.signed_bytes, pss, HASHES[sod.digest]())
        else:
            public.verify(sod.signature, sod.signed_bytes, ec.ECDSA(HASHES[sod.digest]()))
        for name, raw in files.items():
            expected = sod.hashes.get(int(name[2:])) if name.startswith("dg") else None
            if name.startswith("dg") and hashlib.new(sod.lso_digest, raw).digest() != expected:
                return False
        return True

    return verify


def floor_operations(profile: str) -> tuple[tuple[Callable[[], object], ...], str]:
    """The bare cryptography a session of this profile needs at minimum, with its real keys
    (DSC chain cached): SOD signature, CA key generation and agreement, AA."""
    files = profiles.passport(profile).files
    sod = MinimalSod(files["sod"])
    public = dsc_public_key(sod.dsc_der)
    if isinstance(public, rsa.RSAPublicKey):
        pss = padding.PSS(padding.MGF1(HASHES[sod.digest]()), padding.PSS.AUTO)

        def sod_signature() -> None:
            public.verify(sod.signature, sod.signed_bytes, pss, HASHES[sod.digest]())

        sod_kind = f"RSA-{public.key_size} PSS"
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)

        def sod_signature() -> None:
            public.verify(sod.signature, sod.signed_bytes, ec.ECDSA(HASHES[sod.digest]()))

        sod_kind = f"ECDSA {public.curve.name}"
    ca_key = dg14.parse(files["dg14"]).security_infos.chip_authentication_keys[0].public_key
    assert isinstance(ca_key, ECPublicKey)
    peer = ca_key.to_cryptography()

    def agreement() -> None:
        ours = ec.generate_private_key(peer.curve)
        ours.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        ours.exchange(ec.ECDH(), peer)

    aa_key = dg15.parse(files["dg15"]).public_key
    assert isinstance(aa_key, rsa.RSAPublicKey)  # both profiles: ISO 9796-2 over RSA
    numbers = aa_key.public_numbers()
    signature = int.from_bytes(os.urandom(aa_key.key_size // 8), "big") % numbers.n

    def aa() -> None:
        pow(signature, numbers.e, numbers.n)  # the public operation (cryptography has no raw RSA)

    what = f"SOD {sod_kind} + ECDH {peer.curve.name} + AA RSA-{aa_key.key_size}"
    return (sod_signature, agreement, aa), what


def sessions_and_floor(
    profile: str, sessions: int, trust: TrustStore, seconds: float, rounds: int = 5
) -> tuple[list[float], float, float, float, str]:
    """Sessions and the floor's operations in alternating rounds, so that both see the same
    noise: every session's CPU time, the best round's median, the floor (each operation's
    best burst, caches warm), and the floor as it runs between sessions (the operations once
    after each session, whose client work left the caches cold as other sessions' work does
    on a server; the median)."""
    operations, what = floor_operations(profile)
    costs: list[float] = []
    medians: list[float] = []
    best = [0.0] * len(operations)
    between: list[float] = []

    def floor_once() -> None:
        start = time.process_time()
        for operation in operations:
            operation()
        between.append(time.process_time() - start)

    for _ in range(rounds):
        batch = run_sessions(profile, max(1, sessions // rounds), trust, after_each=floor_once)
        costs += batch
        medians.append(statistics.median(batch))
        rates = side_by_side(operations, seconds / rounds, 1)
        best = [max(b, rate) for b, rate in zip(best, rates, strict=True)]
    return costs, min(medians), sum(1 / rate for rate in best), statistics.median(between), what


def pa_against_minimal(profile: str, trust: TrustStore, seconds: float) -> tuple[float, float]:
    """Passive Authentication per second: ours (warm), the minimal verifier (warm), measured
    in alternating bursts."""
    files = dict(profiles.passport(profile).files)
    at = pki.utc(2026, 6, 1)
    minimal = minimal_verifier(trust, at)
    assert minimal(files) and passiveauth.verify(files, trust, at).passed
    ours, bare = side_by_side((lambda: passiveauth.verify(files, trust, at), lambda: minimal(files)), seconds)
    return ours, bare


def handover_round_trips(profile: str, trust: TrustStore, platform: str) -> tuple[int, int]:
    """Relayed APDUs and flights (server messages that start a round trip) for one session."""
    from tests.unit.server.test_session import ScriptedClient, sent

    session = ServerSession(
        known_clients=lambda cid: True, trust=trust, random=os.urandom, now=lambda: pki.utc(2026, 6, 1)
    )
    client = ScriptedClient(session, VirtualChip(profiles.load(profile)))
    client.run(vendor="ios" if platform == "iOS" else "")
    return len([m for m in sent(client.effects) if isinstance(m, wire.ApduMessage)]), client.flights


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--floor-seconds", type=float, default=2.0, help="per floor operation")
    args = parser.parse_args()
    test_pki = testpki.test_pki()
    trust = TrustStore.from_der([test_pki.csca_ec.der, test_pki.csca_rsa.der], crls=test_pki.crls)
    for profile, label in (("utopia-bac", "P-256/RSA (utopia-bac)"), ("utopia", "brainpool (utopia)")):
        run_sessions(profile, 3, trust)  # warm-up: the passport built, the DSC cache filled
        costs, p50, floor, cold, what = sessions_and_floor(profile, args.sessions, trust, args.floor_seconds)
        costs.sort()
        p99 = costs[min(len(costs) - 1, int(len(costs) * 0.99))]
        print(
            f"{label:22} server CPU per session p50 {p50 * 1000:6.2f} ms (best of 5 rounds), "
            f"p99 {p99 * 1000:6.2f} ms; "
            f"{1 / statistics.mean(costs):5.0f} sessions/s per core; crypto floor {floor * 1000:5.2f} ms "
            f"({what}); ratio {p50 / floor:.2f}x"
        )
        print(
            f"{'':22} the floor's operations run once between sessions (caches cold, as on a "
            f"busy server): {cold * 1000:5.2f} ms; ratio {p50 / cold:.2f}x"
        )
        ours, minimal = pa_against_minimal(profile, trust, args.floor_seconds)
        print(
            f"{'':22} PA alone {ours:7.0f}/s; minimal cryptography verifier {minimal:7.0f}/s; "
            f"ratio {minimal / ours:.2f}x"
        )
    for profile in ("utopia", "utopia-bac"):
        for platform in ("desktop", "iOS"):
            apdus, flights = handover_round_trips(profile, trust, platform)
            print(
                f"CA handover ({profile}, {platform}): {apdus} relayed APDUs in {flights} flight(s): "
                f"{flights + 1} RTT from sending CA_HANDOVER to receiving CA_HANDBACK"
            )


if __name__ == "__main__":
    main()
