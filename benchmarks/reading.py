#!/usr/bin/env python3
"""APDUs and bytes for a full passport read, with and without extended length; numbers only.

    .venv/bin/python benchmarks/reading.py [--latency-ms 15]

Reads the ``utopia`` virtual passport with its DG2 replaced by a 25 KB face image (in memory,
with the same client code ``docval-client`` uses: PACE, SOD, DG14, DG1, DG2, DG11, DG12, DG15)
at several READ BINARY block sizes: 223 bytes (short APDUs under SM), and 1 KB / 4 KB / 64 KB
(extended length). Prints the APDU count and bytes against the minimum for that block size
(one SELECT-free SFI read per block, plus the access-control APDUs), and the total time with a
simulated per-APDU round trip (``--latency-ms``, NFC plus reader) added to the measured CPU time.
"""

from __future__ import annotations

import argparse
import math
import os
import time

from emrtd import exchange, pace, reader
from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.lds import dg14
from emrtd.sim import documents, profiles
from emrtd.sim.chip import VirtualChip

FILES = ("sod", "dg14", "dg1", "dg2", "dg11", "dg12", "dg15")


def chip_with_big_face() -> VirtualChip:
    config = profiles.load("utopia")
    image = documents.face_image("jpeg", 325, 433)  # about 25 KB
    config.files["dg2"] = documents.encode_dg2(image, 0, 325, 433)
    return VirtualChip(config)


def read_all(block: int) -> tuple[int, int, int, float]:
    chip = chip_with_big_face()
    counts = {"apdus": 0, "bytes": 0}

    def transmit(command: CommandAPDU) -> ResponseAPDU:
        raw = chip.transmit(command.to_bytes())
        counts["apdus"] += 1
        counts["bytes"] += len(raw)
        return ResponseAPDU.from_bytes(raw)

    started = time.perf_counter()
    info = pace.choose(dg14.parse_card_access(chip.config.files["cardaccess"]).pace)
    assert chip.config.mrz_key is not None
    sm = exchange.run(pace.pace(info, chip.config.mrz_key, os.urandom), transmit).sm
    access_apdus = counts["apdus"]
    exchange.run(reader.select_applet(sm=sm), transmit)
    for name in FILES:
        exchange.run(reader.read_file(reader.file_by_name(name), sm, max_block=block), transmit)
    elapsed = time.perf_counter() - started
    minimum = access_apdus + 1 + sum(math.ceil(len(chip.config.files[n]) / block) for n in FILES)
    return counts["apdus"], counts["bytes"], minimum, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=15.0)
    args = parser.parse_args()
    size = len(chip_with_big_face().config.files["dg2"])
    print(f"DG2: {size} bytes; files read: {', '.join(FILES)}")
    for block, label in ((223, "short APDUs (223-byte blocks)"), (1024, "extended, 1 KB blocks"),
                         (4096, "extended, 4 KB blocks"), (65000, "extended, 64 KB blocks")):
        apdus, data, minimum, cpu = read_all(block)
        total = cpu + apdus * args.latency_ms / 1000
        print(f"{label:32} {apdus:4} APDUs (minimum {minimum:4}), {data:6} bytes; "
              f"{total:5.2f} s at {args.latency_ms:g} ms per APDU ({cpu * 1000:.0f} ms CPU)")


if __name__ == "__main__":
    main()
