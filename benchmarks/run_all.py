#!/usr/bin/env python3
"""Print throughput figures for the emrtd core; no assertions, numbers only.

    .venv/bin/python benchmarks/run_all.py

* secure messaging: wrap + unwrap of a 223-byte READ BINARY answer (3DES and AES-128), as a
  ratio to the bare ``cryptography`` CBC encryption of the same bytes in the same run;
* a full in-memory read of the BSI virtual passport (BAC + SOD, DG1, DG2, DG14, DG15);
* parsing the BSI SOD and DG2;
* PACE (terminal and virtual chip together, in memory) per mapping and group, and Chip
  Authentication, next to one bare ``cryptography`` ECDH on P-256 for scale.
"""

from __future__ import annotations

import os

from _timing import per_second
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from emrtd import bac, chipauth, exchange, lds, pace, reader
from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.lds.securityinfos import PACEInfo
from emrtd.mrz import CANKey
from emrtd.sim import VirtualChip, profiles
from emrtd.sim.auth import AuthKeys
from emrtd.sim.chip import ChipConfig
from emrtd.sm import SecureMessaging


def sm_round_trip(algorithm: str) -> float:
    key = bytes(range(16))
    terminal = SecureMessaging(algorithm, key, key[::-1], 0)  # type: ignore[arg-type]
    chip = terminal.copy()
    payload = ResponseAPDU(os.urandom(223), 0x9000)
    command = CommandAPDU(0, 0xB0, 0, 0, ne=223)

    def once() -> None:
        chip.unwrap_command(terminal.wrap(command))
        terminal.unwrap(chip.wrap_response(payload))

    return per_second(once)


def bare_cbc() -> float:
    data = os.urandom(224)

    def once() -> None:
        ctx = Cipher(algorithms.AES(bytes(16)), modes.CBC(bytes(16))).encryptor()
        ctx.update(data) + ctx.finalize()

    return per_second(once)


def full_read() -> float:
    config = profiles.load("bsi")

    def once() -> None:
        chip = VirtualChip(config)

        transmit = chip.transmit

        exchange.run(reader.select_applet(), transmit)
        sm = exchange.run(bac.bac(config.mrz_key, os.urandom), transmit)  # type: ignore[arg-type]
        for name in ("sod", "dg1", "dg2", "dg14", "dg15"):
            exchange.run(reader.read_file(reader.file_by_name(name), sm), transmit)

    return per_second(once, 2.0)


PACE_CASES = [
    ("ECDH", "GM", 12, "P-256"),
    ("ECDH", "GM", 13, "brainpoolP256r1"),
    ("ECDH", "GM", 16, "brainpoolP384r1"),
    ("ECDH", "IM", 13, "brainpoolP256r1"),
    ("ECDH", "CAM", 13, "brainpoolP256r1"),
    ("DH", "GM", 0, "1024-bit"),
    ("DH", "GM", 2, "2048-bit"),
]


def pace_run(agreement: str, mapping: str, param: int) -> float:
    info = PACEInfo(pace.protocol_oid(agreement, mapping, "AES", 16), 2, param, agreement, mapping, "AES", 16)  # type: ignore[arg-type]
    cam = pace.domain(info).private_key(os.urandom) if mapping == "CAM" else None
    config = ChipConfig(files={}, keys=AuthKeys(can=CANKey("123456"), pace=(info,), cam_key=cam))

    def once() -> None:
        chip = VirtualChip(config)

        transmit = chip.transmit

        exchange.run(pace.pace(info, CANKey("123456"), os.urandom), transmit)

    return per_second(once, 1.5)


def bare_ecdh() -> float:
    peer = ec.generate_private_key(ec.SECP256R1()).public_key()
    return per_second(lambda: ec.generate_private_key(ec.SECP256R1()).exchange(ec.ECDH(), peer))


def ca_prepare(profile: str) -> float:
    infos = lds.dg14.parse(profiles.load(profile).files["dg14"]).security_infos
    key, info = infos.chip_authentication_keys[0], infos.chip_authentication
    return per_second(lambda: chipauth.prepare(key, os.urandom, info[0] if info else None))


def main() -> None:
    files = profiles.load("bsi").files
    floor = bare_cbc()
    print(f"bare AES-CBC encrypt of 224 bytes (cryptography): {floor:,.0f}/s")
    for algorithm in ("3DES", "AES"):
        rate = sm_round_trip(algorithm)
        print(
            f"SM {algorithm}: wrap+unwrap both sides, 223-byte answer: {rate:,.0f}/s "
            f"({floor / rate:.1f}x the bare CBC cost)"
        )
    print(f"full BAC read of the BSI passport in memory (223-byte blocks): {full_read():.1f} reads/s")
    print(f"parse EF.SOD ({len(files['sod'])} B): {per_second(lambda: lds.sod.parse(files['sod'])):,.0f}/s")
    print(f"parse DG2 ({len(files['dg2'])} B): {per_second(lambda: lds.dg2.parse(files['dg2'])):,.0f}/s")
    ecdh = bare_ecdh()
    print(f"bare ECDH P-256 keygen+exchange (cryptography): {ecdh:,.0f}/s")
    for agreement, mapping, param, group in PACE_CASES:
        rate = pace_run(agreement, mapping, param)
        print(
            f"PACE {agreement}-{mapping} AES-128 {group}, terminal+chip in memory: {rate:,.1f}/s "
            f"({ecdh / rate:.0f}x one bare ECDH)"
        )
    for profile, label in (
        ("bsi", "ECDH brainpoolP224r1 (pure Python)"),
        ("utopia", "ECDH brainpoolP256r1"),
        ("utopia-dh", "DH 2048-bit"),
    ):
        print(f"CA terminal side ({label}): {ca_prepare(profile):,.1f}/s")


if __name__ == "__main__":
    main()
