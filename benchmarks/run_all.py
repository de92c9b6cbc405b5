#!/usr/bin/env python3
"""Print throughput figures for the emrtd core; no assertions, numbers only.

    .venv/bin/python benchmarks/run_all.py

* secure messaging: wrap + unwrap of a 223-byte READ BINARY answer (3DES and AES-128), as a
  ratio to the bare ``cryptography`` CBC encryption of the same bytes in the same run;
* a full in-memory read of the BSI virtual passport (BAC + SOD, DG1, DG2, DG14, DG15);
* parsing the BSI SOD and DG2.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from emrtd import bac, exchange, lds, reader
from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.sim import VirtualChip, profiles
from emrtd.sm import SecureMessaging


def per_second(fn: Callable[[], object], seconds: float = 1.0) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


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

        def transmit(command: CommandAPDU) -> ResponseAPDU:
            return ResponseAPDU.from_bytes(chip.transmit(command.to_bytes()))

        exchange.run(reader.select_applet(), transmit)
        sm = exchange.run(bac.bac(config.mrz_key, os.urandom), transmit)  # type: ignore[arg-type]
        for name in ("sod", "dg1", "dg2", "dg14", "dg15"):
            exchange.run(reader.read_file(reader.file_by_name(name), sm), transmit)

    return per_second(once, 2.0)


def main() -> None:
    files = profiles.load("bsi").files
    floor = bare_cbc()
    print(f"bare AES-CBC encrypt of 224 bytes (cryptography): {floor:,.0f}/s")
    for algorithm in ("3DES", "AES"):
        rate = sm_round_trip(algorithm)
        print(f"SM {algorithm}: wrap+unwrap both sides, 223-byte answer: {rate:,.0f}/s "
              f"({floor / rate:.1f}x the bare CBC cost)")
    print(f"full BAC read of the BSI passport in memory (223-byte blocks): {full_read():.1f} reads/s")
    print(f"parse EF.SOD ({len(files['sod'])} B): {per_second(lambda: lds.sod.parse(files['sod'])):,.0f}/s")
    print(f"parse DG2 ({len(files['dg2'])} B): {per_second(lambda: lds.dg2.parse(files['dg2'])):,.0f}/s")


if __name__ == "__main__":
    main()
