#!/usr/bin/env python3
"""APDUs and bytes for a full passport read, with and without extended length; numbers only.

    .venv/bin/python benchmarks/reading.py [--latency-ms 15]

Reads the ``utopia`` virtual passport with its DG2 replaced by a 25 KB face image (in memory,
with the same client code ``docval-client`` uses: PACE, SOD, DG14, DG1, DG2, DG11, DG12, DG15)
at several READ BINARY block sizes: 223 bytes (short APDUs under SM), 1 KB / 4 KB and the
block :mod:`emrtd.extended_length` picks from EF.ATR/INFO (extended length), and 4 KB asked of
a chip without extended length (one refused read, then 223-byte blocks). Prints the APDU
count and bytes against the minimum for that block size
(one SELECT-free SFI read per block, plus the access-control APDUs), and the total time with a
simulated per-APDU round trip (``--latency-ms``, reader and chip turnaround) plus the bytes at
the contactless bit rate (``--nfc-kbps``), added to the measured CPU time.
"""

from __future__ import annotations

import argparse
import math
import os
import time

from emrtd import exchange, extended_length, pace, reader
from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.lds import dg14
from emrtd.sim import encoders, profiles
from emrtd.sim.chip import VirtualChip

FILES = ("sod", "dg14", "dg1", "dg2", "dg11", "dg12", "dg15")


def chip_with_big_face(extended: bool = True) -> VirtualChip:
    config = profiles.load("utopia")
    image = encoders.face_image("jpeg", 325, 433)  # about 25 KB
    config.files["dg2"] = encoders.encode_dg2(image, 0, 325, 433)
    config.extended_length = extended
    return VirtualChip(config)


def read_all(block: int, *, chip_extended: bool = True) -> tuple[int, int, int, float]:
    chip = chip_with_big_face(chip_extended)
    counts = {"apdus": 0, "bytes": 0}

    def transmit(command: CommandAPDU) -> ResponseAPDU:
        raw = chip.transmit_raw(command.to_bytes())
        counts["apdus"] += 1
        counts["bytes"] += len(raw)
        return ResponseAPDU.from_bytes(raw)

    started = time.perf_counter()
    info = pace.choose(dg14.parse_card_access(chip.config.files["cardaccess"]).pace)
    assert chip.config.mrz_key is not None
    sm = exchange.run(pace.pace(info, chip.config.mrz_key, os.urandom), transmit).sm
    access_apdus = counts["apdus"]
    exchange.run(reader.select_applet(sm=sm), transmit)
    blocks = reader.BlockSize(block)  # shared, as in docval-client: falls back once if refused
    for name in FILES:
        exchange.run(reader.read_file(reader.file_by_name(name), sm, max_block=blocks), transmit)
    elapsed = time.perf_counter() - started
    size = blocks.size  # the minimum for the block actually used
    minimum = access_apdus + 1 + sum(math.ceil(len(chip.config.files[n]) / size) for n in FILES)
    return counts["apdus"], counts["bytes"], minimum, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=15.0)
    parser.add_argument("--nfc-kbps", type=float, default=424.0, help="contactless bit rate (ISO 14443)")
    args = parser.parse_args()
    size = len(chip_with_big_face().config.files["dg2"])
    print(f"DG2: {size} bytes; files read: {', '.join(FILES)}")
    detected = extended_length.block_size(
        exchange.run(extended_length.detect(), chip_with_big_face().transmit)
    )
    rows = [(223, True, "short APDUs (223-byte blocks)"), (1024, True, "extended, 1 KB blocks"),
            (4096, True, "extended, 4 KB blocks"), (detected, True, f"extended, detected ({detected})"),
            (4096, False, "4 KB asked, chip refuses")]
    for block, chip_extended, label in rows:
        apdus, data, minimum, cpu = read_all(block, chip_extended=chip_extended)
        total = cpu + apdus * args.latency_ms / 1000 + data * 8 / (args.nfc_kbps * 1000)
        print(f"{label:32} {apdus:4} APDUs (minimum {minimum:4}), {data:6} bytes; "
              f"{total:5.2f} s at {args.latency_ms:g} ms per APDU + {args.nfc_kbps:g} kbit/s "
              f"({cpu * 1000:.0f} ms CPU)")


if __name__ == "__main__":
    main()
