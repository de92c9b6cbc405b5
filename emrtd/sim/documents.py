"""Build test passports: a :class:`~emrtd.sim.spec.PassportSpec` and the test PKI in, the
files (LDS files, EF.CardAccess/CardSecurity, SOD) and the chip's keys out. Everything is
derived from the PKI's seed and the spec's name, so a build is reproducible."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .. import activeauth, mrz, pace, tlv
from ..lds.securityinfos import ID_CA, ChipAuthenticationInfo
from ..reader import DG_TAGS
from . import pki
from .auth import AuthKeys, StaticKey
from .encoders import (
    aa_info,
    ca_info,
    ca_public_key_info,
    encode_atr_info,
    encode_com,
    encode_dg1,
    encode_dg2,
    encode_text_group,
    face_image,
    group_hashes,
    pace_info,
    security_infos,
    sign_sod,
)
from .spec import PassportSpec, aa_key, ca_key, parse_pace
from .testpki import DEFAULT_SEED, TestPKI, test_pki

OID_DATA = "1.2.840.113549.1.7.1"  # id-data (RFC 5652 §4)


@dataclass(frozen=True)
class Passport:
    spec: PassportSpec
    files: dict[str, bytes] = field(repr=False)
    keys: AuthKeys = field(repr=False)
    mrz: mrz.MRZ = field(repr=False)


def build(spec: PassportSpec, pki_seed: str = DEFAULT_SEED) -> Passport:
    """The files and chip keys of a passport (cached per spec and PKI seed)."""
    return _build(spec, pki_seed)


@functools.lru_cache(maxsize=64)
def _build(spec: PassportSpec, pki_seed: str) -> Passport:
    trust = test_pki(pki_seed)
    seed = pki.Seed(trust.seed.seed + b"/" + spec.name.split("+")[0].encode())
    faults = spec.faults
    holder = mrz.parse("\n".join(spec.mrz_lines))
    lines = list(spec.mrz_lines)
    if "wrong-issuing-state" in faults:
        lines[0] = lines[0][:2] + "D<<" + lines[0][5:]
    files: dict[str, bytes] = {"dg1": encode_dg1("".join(lines))}
    image = face_image(spec.image)
    files["dg2"] = encode_dg2(image, 0 if spec.image == "jpeg" else 1, 240, 320)
    born = holder.date_of_birth  # DG11's full date of birth agrees with the MRZ's YYMMDD
    century = b"19" if int(born[:2]) > 30 else b"20"
    files["dg11"] = encode_text_group(
        0x6B, {0x5F0E: b"ERIKSSON<<ANNA<MARIA", 0x5F2B: century + born.encode(), 0x5F11: b"ZENITH,UTOPIA"}
    )
    files["dg12"] = encode_text_group(0x6C, {0x5F19: b"UTOPIA PASSPORT OFFICE", 0x5F26: b"20250415"})
    if spec.extended_length:
        files["atrinfo"] = encode_atr_info(65535, 65536)

    pace_infos = tuple(parse_pace(text) for text in spec.pace)
    ca_keys: list[StaticKey] = []
    chip_ca_keys: list[StaticKey] = []
    dg14_items: list[bytes] = [pace_info(info) for info in pace_infos]
    if spec.ca and not faults & {"no-dg14", "no-ca-key"}:
        info, domain, key_id = ca_key(spec.ca)
        private = domain.private_key(seed.stream("ca-key"))
        key = StaticKey(info, domain, private, key_id)
        ca_keys.append(key)
        chip_private = domain.private_key(seed.stream("clone-ca-key")) if "clone" in faults else private
        chip_ca_keys.append(StaticKey(info, domain, chip_private, key_id))
        dg14_items += [ca_info(info), ca_public_key_info(key, standardized="std-params" in faults)]

    aa_private = None
    aa_hash = "sha1"
    if spec.aa and "no-dg15" not in faults:
        aa_private, aa_hash = aa_key(spec.aa, seed, "aa")
        spki = aa_private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        files["dg15"] = tlv.encode(0x6F, spki)
        if isinstance(aa_private, ec.EllipticCurvePrivateKey):
            dg14_items.append(aa_info(activeauth.ECDSA_PLAIN_OIDS[aa_hash]))
        if "wrong-aa-key" in faults:
            aa_private, _ = aa_key(spec.aa, seed, "wrong-aa")
    if dg14_items and "no-dg14" not in faults:
        files["dg14"] = tlv.encode(0x6E, security_infos(dg14_items))

    cam_private = None
    if pace_infos:
        files["cardaccess"] = security_infos([pace_info(info) for info in pace_infos])
        cam = next((info for info in pace_infos if info.mapping == "CAM"), None)
        card_security_items = [pace_info(info) for info in pace_infos]
        if cam is not None:
            cam_domain = pace.domain(cam)
            cam_private = cam_domain.private_key(seed.stream("cam-key"))
            cam_info = ChipAuthenticationInfo(f"{ID_CA}.2.2", 1, None, "ECDH", "AES", 16)
            cam_key = StaticKey(cam_info, cam_domain, cam_private)
            card_security_items += [
                ca_info(cam_info), ca_public_key_info(cam_key, standardized="std-params" in faults)
            ]
            if "clone" in faults:
                cam_private = cam_domain.private_key(seed.stream("clone-cam-key"))
        files["cardsecurity"] = _sign(
            pki.OID_SECURITY_OBJECT, security_infos(card_security_items), spec, trust
        )

    data_groups = {name: raw for name, raw in files.items() if name.startswith("dg")}
    signed_hashes = dict(data_groups)
    if "tampered-dg" in faults:
        files["dg1"] = files["dg1"].replace(b"ANNA<MARIA", b"EVA<<MARIA")
    files["sod"] = sign_sod(
        group_hashes(signed_hashes, spec.sod_hash),
        _document_signer(spec, trust),
        hash_name=spec.sod_hash,
        signing_time=_signing_time(spec),
        content_type=OID_DATA if "id-data-sod" in faults else pki.OID_LDS_SECURITY_OBJECT,
    )
    if "empty-sod" in faults:
        files["sod"] = b""
    if "empty-dg2" in faults:
        files["dg2"] = b""
    tag_of = {number: tag for tag, number in DG_TAGS.items()}
    files["com"] = encode_com(
        [tag_of[int(name[2:])] for name in sorted(data_groups, key=lambda n: int(n[2:]))]
    )

    keys_ = AuthKeys(
        mrz_key=holder.access_key,
        can=mrz.CANKey(spec.can),
        pace=pace_infos,
        ca_keys=tuple(chip_ca_keys),
        cam_key=cam_private,
        aa_key=aa_private,
        aa_hash=aa_hash,
    )
    return Passport(spec, files, keys_, holder)


def _document_signer(spec: PassportSpec, trust: TestPKI) -> pki.Authority:
    faults = spec.faults
    if "unknown-dsc" in faults:
        return trust.rogue_dsc
    if "expired-dsc" in faults:
        return trust.dsc_expired
    if "revoked-dsc" in faults:
        return trust.dsc_revoked
    return trust.dsc_rsa if spec.signer == "rsa" else trust.dsc_ec


def _signing_time(spec: PassportSpec) -> datetime:
    return pki.utc(2024, 6, 1) if "expired-dsc" in spec.faults else pki.utc(2025, 4, 15)


def _sign(content_type: str, content: bytes, spec: PassportSpec, trust: TestPKI) -> bytes:
    signer = _document_signer(spec, trust)
    info = pki.signed_data(
        content_type, content, signer, digest=spec.sod_hash, signing_time=_signing_time(spec)
    )
    return bytes(info.dump())
