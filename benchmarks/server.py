#!/usr/bin/env python3
"""Server-side cost of a validation session, in process; numbers only.

    .venv/bin/python benchmarks/server.py [--sessions 200]

* server CPU per full session (START → CA relay → FILEs → FINISH → PA/AA/CA checks → result),
  driven through the sans-I/O session by in-process clients reading virtual chips, for a
  P-256/RSA profile (``utopia-bac``: RSA-PSS SOD, ECDH P-256 CA, RSA-2048 AA) and a brainpool
  profile (``utopia``: ECDSA brainpool SOD, ECDH brainpoolP256r1 CA); p50/p99 per session;
  sessions per second of server CPU; the crypto floor (the bare ``cryptography`` operations a
  session cannot avoid: two signature verifications, one ECDH, one AA verification);
* CA_HANDOVER → CA_HANDBACK in network round trips, and its time at 100 ms RTT.

Client work (reading the chip) is excluded from the server figures: only time spent inside
the session's event handlers is counted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _timing import per_second
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from docval_server.session import ServerSession
from emrtd.docval import wire
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


def run_sessions(profile: str, count: int, trust: TrustStore) -> list[float]:
    from tests.unit.server.test_session import ScriptedClient  # the unit tests' vendor-like client

    config = profiles.load(profile)
    costs = []
    for index in range(count):
        session = TimedSession(
            known_clients=lambda cid: True, trust=trust, random=os.urandom, now=lambda: pki.utc(2026, 6, 1)
        )
        client = ScriptedClient(session, VirtualChip(config))
        client.run()
        assert session.result is not None and session.result["passiveAuthentication"], index
        costs.append(session.spent)
    return costs


def crypto_floor(profile: str) -> float:
    """Seconds of bare cryptography a session of this profile needs at minimum."""
    key_kind = {"utopia-bac": ("rsa", ec.SECP256R1()), "utopia": ("ec", ec.BrainpoolP256R1())}[profile]
    data = os.urandom(100)
    sign_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if key_kind[0] == "rsa":
        sign_key = rsa.generate_private_key(65537, 2048)
        signature = sign_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        public = sign_key.public_key()

        def verify() -> None:
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        sign_key = ec.generate_private_key(key_kind[1])
        signature = sign_key.sign(data, ec.ECDSA(hashes.SHA256()))
        ec_public = sign_key.public_key()

        def verify() -> None:
            ec_public.verify(signature, data, ec.ECDSA(hashes.SHA256()))

    peer = ec.generate_private_key(key_kind[1]).public_key()
    verify_s = 1 / per_second(verify, 0.5)
    ecdh_s = 1 / per_second(lambda: ec.generate_private_key(key_kind[1]).exchange(ec.ECDH(), peer), 0.5)
    return 3 * verify_s + ecdh_s  # SOD + DSC + AA signatures, one CA agreement


def handover_round_trips(profile: str, trust: TrustStore) -> int:
    from tests.unit.server.test_session import ScriptedClient, sent

    session = ServerSession(
        known_clients=lambda cid: True, trust=trust, random=os.urandom, now=lambda: pki.utc(2026, 6, 1)
    )
    client = ScriptedClient(session, VirtualChip(profiles.load(profile)))
    client.run()
    return len([m for m in sent(client.effects) if isinstance(m, wire.ApduMessage)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100)
    args = parser.parse_args()
    test_pki = testpki.test_pki()
    trust = TrustStore.from_der([test_pki.csca_ec.der, test_pki.csca_rsa.der], crls=test_pki.crls)
    for profile, label in (("utopia-bac", "P-256 CA / RSA SOD+AA"), ("utopia", "brainpoolP256r1")):
        costs = sorted(run_sessions(profile, args.sessions, trust))
        p50, p99 = statistics.median(costs), costs[min(len(costs) - 1, int(len(costs) * 0.99))]
        floor = crypto_floor(profile)
        print(
            f"{label:24} server CPU per session p50 {p50 * 1000:6.2f} ms, p99 {p99 * 1000:6.2f} ms; "
            f"{1 / statistics.mean(costs):6.0f} sessions/s per core; crypto floor {floor * 1000:5.2f} ms "
            f"({p50 / floor:.1f}x)"
        )
    for profile in ("utopia", "utopia-bac"):
        trips = handover_round_trips(profile, trust)
        print(
            f"CA handover ({profile}): {trips} relayed APDUs = {trips} round trips, plus the handover and "
            f"handback messages; at 100 ms RTT: {(trips + 1) * 100} ms from sending CA_HANDOVER to "
            f"receiving CA_HANDBACK"
        )


if __name__ == "__main__":
    main()
