#!/usr/bin/env python3
"""Read a passport on a PC/SC reader with BAC and check its data group hashes.

    python examples/read_passport.py --document-number C11T002JM --birth 960812 --expiry 231031

This is the README demo until the full client exists: it performs BAC, reads EF.COM, EF.SOD
and every data group the chip lists, checks each data group against its SOD hash, and
prints a summary (name, document, image). It does not yet verify the SOD signature.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time

from docval_client.card import CardError, PcscCard
from emrtd import bac, exchange, lds, reader
from emrtd.errors import EmrtdError
from emrtd.mrz import MRZKey


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reader", default=None, help="reader name prefix (default: first with a card)")
    parser.add_argument("--document-number", required=True)
    parser.add_argument("--birth", required=True, help="date of birth, YYMMDD")
    parser.add_argument("--expiry", required=True, help="date of expiry, YYMMDD")
    parser.add_argument("--photo", help="write the face image to this file")
    parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait for a card")
    parser.add_argument("--max-block", type=int, default=223,
                        help="READ BINARY block size (above 223 needs extended length)")
    args = parser.parse_args()
    try:
        key = MRZKey(args.document_number, args.birth, args.expiry)
        card = PcscCard(args.reader, wait=args.wait)
    except EmrtdError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    count = {"apdus": 0, "bytes": 0}

    def transmit(command):  # type: ignore[no-untyped-def]
        response = card.transmit(command)
        count["apdus"] += 1
        count["bytes"] += len(command.to_bytes()) + len(response.to_bytes())
        return response

    try:
        print(f"reader: {card.reader}")
        exchange.run(reader.select_applet(), transmit)
        sm = exchange.run(bac.bac(key, os.urandom), transmit)
        print("BAC: access granted (3DES secure messaging)")
        block = args.max_block
        com = lds.com.parse(exchange.run(reader.read_file(reader.EF_COM, sm), transmit))
        files = {"sod": exchange.run(reader.read_file(reader.EF_SOD, sm, max_block=block), transmit)}
        # What the vendor clients read; DG3/DG4 need EAC, which this reader does not do.
        for number in [n for n in com.data_groups if n in (1, 2, 7, 11, 12, 14, 15)]:
            ef = reader.DATA_GROUPS[number]
            files[ef.name] = exchange.run(reader.read_file(ef, sm, max_block=block), transmit)
            print(f"read {ef.name}: {len(files[ef.name])} bytes")
    except CardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except EmrtdError as exc:
        print(f"error: reading failed: {exc}", file=sys.stderr)
        return 3
    finally:
        card.close()
    sod = lds.sod.parse(files["sod"])
    hash_fn = getattr(hashlib, sod.hash_algorithm)
    ok = True
    for number, expected in sorted(sod.hashes.items()):
        name = f"dg{number}"
        if name not in files:
            continue
        good = hash_fn(files[name]).digest() == expected
        ok &= good
        print(f"  {'✔' if good else '✘'} {name} {sod.hash_algorithm_name} hash")
    holder = lds.dg1.parse(files["dg1"]).mrz
    print(f"holder: {holder.primary_identifier}, {' '.join(holder.secondary_identifiers)}")
    print(f"document: {holder.document_code} {holder.document_number} ({holder.issuing_state}),"
          f" expires {holder.date_of_expiry}")
    if "dg2" in files:
        face = lds.dg2.parse(files["dg2"]).face
        print(f"face image: {face.format}, {len(face.data)} bytes")
        if args.photo:
            with open(args.photo, "wb") as out:
                out.write(face.data)
            print(f"photo written to {args.photo}")
    print(f"{count['apdus']} APDUs, {count['bytes']} bytes in {time.monotonic() - started:.2f} s")
    print("data group hashes: " + ("all match the SOD" if ok else "MISMATCH"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
