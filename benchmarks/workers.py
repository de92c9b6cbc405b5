#!/usr/bin/env python3
"""Scaling with worker processes: sessions/s and server CPU per session over real WebSockets,
for ``--workers 1`` and ``--workers N`` in one run, and their ratio.

    .venv/bin/python benchmarks/workers.py [--workers 2] [--clients 16] [--seconds 15]

The load generator is ``--generators`` separate processes (Autobahn on asyncio, each running
``clients / generators`` concurrent sessions of the utopia-bac passport). Where the machine
has more cores than workers, the server is pinned to the first N cores and the generators to
the rest (``os.sched_setaffinity``); on a machine with no spare core (this 2-core one), they
share the cores, which the output says — the ratio is then a lower bound of what the workers
give on a machine where the load comes from elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.integration.test_server import TWISTD, converse, free_port, start_result_server, wait_http


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int) -> float:
    total = 0.0
    for each in [pid, *_children(pid)]:
        try:
            total += cpu_seconds(each)
        except OSError:
            pass
    return total


def _generator(url: str, clients: int, seconds: float, index: int, cores: list[int] | None, out: Any) -> None:
    if cores:
        os.sched_setaffinity(0, cores)

    async def run() -> int:
        deadline = time.monotonic() + seconds
        done = 0

        async def worker(number: int) -> None:
            nonlocal done
            count = 0
            while time.monotonic() < deadline:
                received = await converse(url, None, "utopia-bac", "bench", f"w{index}-{number}-{count}")
                assert received[-1][1] == 1000, received[-1]
                done += 1
                count += 1

        await asyncio.gather(*(worker(n) for n in range(clients)))
        return done

    out.put(asyncio.run(run()))


def measure(
    workers: int, clients: int, generators: int, seconds: float, most: int
) -> tuple[float, float, str]:
    """One run; the server is pinned (to ``workers`` cores) only when the machine has a core
    to spare beyond the ``most`` workers of the comparison, so that both runs place alike."""
    cores = sorted(os.sched_getaffinity(0))
    spare = len(cores) > most
    server_cores, load_cores = (cores[:workers], cores[workers:]) if spare else (None, None)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result_port, port = free_port(), free_port()
        results = start_result_server(folder, result_port)
        (folder / "bench.toml").write_text(f"""
[server]
endpoint = "tcp:{port}:interface=127.0.0.1:backlog=1024"
[trust]
paths = ["trust"]
[clients.bench]
result_url = "http://127.0.0.1:{result_port}/results"
""")
        server = subprocess.Popen(
            [
                str(TWISTD),
                "-n",
                "--pidfile=",
                "--logfile=/dev/null",
                "docval",
                "--config",
                "bench.toml",
                "--workers",
                str(workers),
            ],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"ws://127.0.0.1:{port}/ws2/validate"
            wait_http(f"http://127.0.0.1:{port}/health")
            time.sleep(2.0)  # all workers listening
            if server_cores:
                for pid in [server.pid, *_children(server.pid)]:
                    os.sched_setaffinity(pid, server_cores)
            asyncio.run(converse(url, None, "utopia-bac", "bench", "warm-up"))
            before = server_cpu(server.pid)
            queue: Any = multiprocessing.Queue()
            procs = [
                multiprocessing.Process(
                    target=_generator, args=(url, clients // generators, seconds, i, load_cores, queue)
                )
                for i in range(generators)
            ]
            for proc in procs:
                proc.start()
            sessions = sum(queue.get(timeout=seconds + 120) for _ in procs)
            for proc in procs:
                proc.join(timeout=30)
            cpu = server_cpu(server.pid) - before
        finally:
            server.terminate()
            server.wait(timeout=30)
            results.terminate()
            results.wait(timeout=20)
    placement = (
        f"server on cores {server_cores}, load on {load_cores}"
        if spare
        else f"server and load share cores {cores}"
    )
    return sessions / seconds, cpu / max(sessions, 1) * 1000, placement


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--generators", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    rows = {}
    for workers in (1, args.workers):
        rate, cpu, placement = measure(workers, args.clients, args.generators, args.seconds, args.workers)
        rows[workers] = rate
        print(f"--workers {workers}: {rate:6.1f} sessions/s, server CPU {cpu:5.2f} ms/session ({placement})")
    print(f"scaling ratio {args.workers} workers / 1 worker: ×{rows[args.workers] / rows[1]:.2f}")


if __name__ == "__main__":
    main()
