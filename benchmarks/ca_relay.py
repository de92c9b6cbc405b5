#!/usr/bin/env python3
"""Chip Authentication over real WebSockets with network latency injected; numbers only.

    .venv/bin/python benchmarks/ca_relay.py [--rtt-ms 100] [--runs 5]

Starts ``twistd -n docval`` and the example result server on loopback (as
``server_network.py`` does) and puts a TCP proxy in front of the server that delays every
chunk by half the RTT in each direction (order kept; loopback has no ``tc netem`` without
root and a kernel module, so the delay is done in user space). Then, for the AES profile
(``utopia``: MSE:Set AT + GENERAL AUTHENTICATE) and the 3DES profile (``utopia-bac``: MSE:Set
KAT), and for the platforms ``android`` (one flight), ``desktop`` (one flight) and ``iOS``
(one APDU at a time), a client reads SOD and DG14 from a virtual passport, sends CA_HANDOVER
and relays the server's APDUs in order; printed: the time from sending CA_HANDOVER to
receiving CA_HANDBACK (median of ``--runs``), the chip's own time in it, and what remains
expressed in RTTs. The floor is 2 RTT: the handover, one flight of APDUs and its answers,
the handback (the handover's trip and the handback's trip are one RTT together).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from server_network import start, stop

from emrtd import access, exchange, reader
from emrtd.docval import wire
from emrtd.sim import profiles
from emrtd.sim.chip import VirtualChip
from tests.integration.test_server import connect, free_port


async def delay_proxy(listen_port: int, target_port: int, one_way: float) -> asyncio.AbstractServer:
    """A loopback TCP proxy adding ``one_way`` seconds to every chunk in both directions."""

    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    sink.close()
                    return
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                sink.write(data)
                await sink.drain()

        task = asyncio.ensure_future(deliver())
        while True:
            data = await source.read(65536)
            await queue.put((time.monotonic() + one_way, data))
            if not data:
                break
        await task

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", target_port)
            await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w), return_exceptions=True)
        except (asyncio.CancelledError, ConnectionError):
            pass

    return await asyncio.start_server(handle, "127.0.0.1", listen_port)


async def one_handover(url: str, profile: str, platform: str) -> tuple[float, float, int]:
    """Seconds from CA_HANDOVER to CA_HANDBACK, the chip's seconds in it, APDUs relayed."""
    proto, factory = await connect(url, None)

    async def next_message() -> object:
        return await asyncio.wait_for(factory.inbox.get(), 30)

    def send(message: object) -> None:
        if isinstance(message, (wire.FileMessage, wire.ApduMessage)):
            proto.sendMessage(message.serialize(), isBinary=True)  # type: ignore[no-untyped-call]
        else:
            text = wire.serialize_text(message)  # type: ignore[arg-type]
            proto.sendMessage(text.encode(), isBinary=False)  # type: ignore[no-untyped-call]

    chip = VirtualChip(profiles.load(profile))
    send(wire.Start(f"ca-{os.urandom(4).hex()}", "bench", platform, True, False))
    accept = await next_message()
    assert isinstance(accept, wire.Accept), accept
    assert chip.config.mrz_key is not None
    sm = exchange.run(access.open_document(chip.config.mrz_key, os.urandom), chip.transmit).sm
    dg14 = exchange.run(reader.read_file(reader.file_by_name("dg14"), sm), chip.transmit)
    send(wire.FileMessage("dg14", dg14))
    chip_seconds, apdus = 0.0, 0
    began = time.monotonic()
    send(wire.CaHandover(65536, 223, wire.SecureMessagingInfo.from_secure_messaging(sm)))
    while True:
        message = await next_message()
        if isinstance(message, wire.ApduMessage):
            start = time.monotonic()
            answer = chip.transmit_raw(message.data)
            chip_seconds += time.monotonic() - start
            apdus += 1
            send(wire.ApduMessage(answer))
        elif isinstance(message, wire.CaHandback):
            assert message.check_result == "SUCCESS", message
            break
    elapsed = time.monotonic() - began
    proto.sendClose()
    while not isinstance(await next_message(), tuple):  # the close handshake, through the proxy
        pass
    return elapsed, chip_seconds, apdus


async def measure(url: str, rtt: float, runs: int) -> None:
    for profile, cipher in (("utopia", "AES"), ("utopia-bac", "3DES")):
        await one_handover(url, profile, "desktop")  # warm-up: passport built, caches filled
        for platform in ("android", "desktop", "iOS"):
            samples = [await one_handover(url, profile, platform) for _ in range(runs)]
            elapsed = statistics.median(s[0] for s in samples)
            chip = statistics.median(s[1] for s in samples)
            apdus = samples[0][2]
            print(
                f"CA {cipher:4} ({profile:10}) {platform:8}: {apdus} relayed APDUs, CA_HANDOVER → "
                f"CA_HANDBACK {elapsed * 1000:6.1f} ms (chip {chip * 1000:5.1f} ms) = "
                f"{(elapsed - chip) / rtt:4.2f} RTT at {rtt * 1000:.0f} ms RTT"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rtt-ms", type=float, default=100.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rtt = args.rtt_ms / 1000
    with tempfile.TemporaryDirectory() as tmp:
        url, processes, _pid = start(Path(tmp))
        server_port = int(url.split(":")[2].split("/")[0])
        proxy_port = free_port()

        async def run() -> None:
            proxy = await delay_proxy(proxy_port, server_port, rtt / 2)
            try:
                await measure(f"ws://127.0.0.1:{proxy_port}/ws2/validate", rtt, args.runs)
            finally:
                proxy.close()

        try:
            asyncio.run(run())
        finally:
            stop(processes)


if __name__ == "__main__":
    main()
