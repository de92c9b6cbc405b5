#!/usr/bin/env python3
"""Time Passive Authentication and the terminal side of Chip Authentication; numbers only.

    .venv/bin/python benchmarks/verification.py

* PA (EF.SOD parse, signer-info checks and signature, DSC chain to the CSCA, CRL and
  validity checks, six data-group hashes) for CSCA/DSC keys on P-256, brainpoolP256r1,
  brainpoolP384r1, RSA-2048 and RSA-4096, next to the bare ``cryptography`` cost of the two
  signature verifications PA cannot avoid (SOD and DSC), measured in the same run;
* CA terminal side (ephemeral key, agreement with the chip's static key, KDF) on the same
  curves and on the 2048-bit RFC 5114 group, next to a bare ``cryptography`` ECDH;
* loading the German master list (about 590 CSCAs, signature checked).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from _timing import per_second
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from emrtd import chipauth, curves, dhgroups, ecmath, passiveauth
from emrtd.lds.securityinfos import ChipAuthenticationPublicKeyInfo
from emrtd.pubkey import DHPublicKey, ECPublicKey
from emrtd.sim import encoders, pki, profiles
from emrtd.truststore import TrustStore

SHARED = Path(__file__).resolve().parents[2] / "shared"


def make_key(kind: str) -> pki.PrivateKey:
    if kind.startswith("RSA"):
        return rsa.generate_private_key(65537, int(kind[4:]))
    return ec.generate_private_key(curves.by_name({"P-256": "secp256r1"}.get(kind, kind)).ec_curve())


def bare_verify(key: pki.PrivateKey) -> Callable[[], None]:
    data = os.urandom(200)
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        public_rsa = key.public_key()
        return lambda: public_rsa.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    public_ec = key.public_key()
    return lambda: public_ec.verify(signature, data, ec.ECDSA(hashes.SHA256()))


def pa_case(kind: str) -> tuple[float, float]:
    csca_key, dsc_key = make_key(kind), make_key(kind)
    csca = pki.certificate(
        subject=pki.name("UT", "Bench CSCA"),
        key=csca_key,
        issuer=None,
        serial=1,
        not_before=pki.utc(2024),
        not_after=pki.utc(2039),
        ca=True,
    )
    dsc = pki.certificate(
        subject=pki.name("UT", "Bench DS"),
        key=dsc_key,
        issuer=csca,
        serial=2,
        not_before=pki.utc(2025),
        not_after=pki.utc(2036),
        ca=False,
    )
    files = dict(profiles.passport("utopia").files)
    groups = {name: raw for name, raw in files.items() if name.startswith("dg")}
    files["sod"] = encoders.sign_sod(encoders.group_hashes(groups), dsc)
    trust = TrustStore.from_der([csca.der])
    at = pki.utc(2026, 6, 1)
    assert passiveauth.verify(files, trust, at).passed
    pa_rate = per_second(lambda: passiveauth.verify(files, trust, at))
    bare = per_second(bare_verify(dsc_key))
    return pa_rate, bare / 2  # PA needs two verifications


def ca_case(kind: str) -> tuple[float, float | None]:
    if kind == "DH-2048":
        group = dhgroups.BY_PACE_ID[2]
        y = pow(group.g, int.from_bytes(os.urandom(32), "big"), group.p)
        public: ECPublicKey | DHPublicKey = DHPublicKey(group.p, group.g, group.q, y)
        bare = None
    else:
        name = {"P-256": "secp256r1"}.get(kind, kind)
        curve = curves.by_name(name)
        point = ecmath.multiply(curve, int.from_bytes(os.urandom(16), "big"), ecmath.generator(curve))
        assert point is not None
        public = ECPublicKey(curve, *point)
        peer = public.to_cryptography()
        bare = per_second(lambda: ec.generate_private_key(peer.curve).exchange(ec.ECDH(), peer))
    info = ChipAuthenticationPublicKeyInfo(
        "0.4.0.127.0.7.2.2.1.2", "DH" if kind.startswith("DH") else "ECDH", public, b"", None
    )
    return per_second(lambda: chipauth.prepare(info, os.urandom)), bare


def main() -> None:
    for kind in ("P-256", "brainpoolP256r1", "brainpoolP384r1", "RSA-2048", "RSA-4096"):
        pa_rate, floor = pa_case(kind)
        print(
            f"PA {kind:16} {pa_rate:8,.0f}/s  (bare cryptography, 2 verifications: {floor:8,.0f}/s; "
            f"PA costs {floor / pa_rate:.1f}x)"
        )
    for kind in ("P-256", "brainpoolP256r1", "brainpoolP384r1", "DH-2048"):
        rate, bare = ca_case(kind)
        ratio = (
            f"(bare ECDH keygen+exchange {bare:8,.0f}/s; CA costs {bare / rate:.1f}x)"
            if bare
            else "(no cryptography equivalent: pow() by hand)"
        )
        print(f"CA terminal {kind:16} {rate:8,.0f}/s  {ratio}")
    masterlists = SHARED / "data" / "masterlists"
    if masterlists.exists():
        start = time.perf_counter()
        store = TrustStore.load(
            masterlists / "DE_ROOT_CA_CSCA07.cer", masterlists / "DE_ML_2026-05-28-08-28-45.ml"
        )
        print(f"load DE master list: {len(store)} CSCAs in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
