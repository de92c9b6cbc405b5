"""All cores on one machine: ``twistd -n docval --config docval.toml --workers N``.

The supervisor (the twistd process) starts N worker processes (``python -m
docval_server.workers``), each with its own reactor and its own listening socket on the same
port with ``SO_REUSEPORT``: the kernel spreads new connections over the workers by a hash of
the client's address and port (one shared accept queue would let the first awake worker take
nearly all of them). Sessions keep no state outside their connection, so any worker can take
any session. TLS endpoints are served the same way.

* A worker that dies is started again after a second (its sessions in flight are lost).
* SIGTERM to the supervisor sends SIGTERM to every worker, which stops accepting and drains
  with ``shutdown_grace`` as a single server does; the supervisor waits for them (and kills
  what is left ``shutdown_grace + 10`` seconds later).
* SIGHUP to the supervisor is passed on: every worker reloads its trust store.
* Metrics: workers write their values to a ``PROMETHEUS_MULTIPROC_DIR`` the supervisor owns;
  the supervisor's ``admin_endpoint`` serves ``/metrics`` summed over the workers and
  ``/health`` (200 while at least one worker runs). Without an admin endpoint, each worker's
  ``/health`` and ``/metrics`` on the shared port show that worker only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
from typing import Any

from twisted.application import internet, service
from twisted.internet import protocol
from twisted.internet.defer import Deferred, DeferredList
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from . import endpoints

log = Logger()


def listening_socket(description: str) -> socket.socket:
    """A ``SO_REUSEPORT`` socket for a ``tcp:PORT[:interface=…][:backlog=…]`` or ``ssl:PORT…``
    endpoint (every worker binds its own)."""
    kind, *parts = endpoints.fields(description)
    if kind not in ("tcp", "ssl") or not parts or not parts[0].isdigit():
        raise endpoints.EndpointError(f"--workers needs a tcp: or ssl: endpoint, not {description!r}")
    options = dict(part.partition("=")[::2] for part in parts[1:])
    interface = options.get("interface", "")
    family = socket.AF_INET6 if ":" in interface else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((interface, int(parts[0])))
    sock.listen(int(options.get("backlog", 1024)))
    sock.setblocking(False)
    return sock


class _Worker(protocol.ProcessProtocol):
    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.ended: Deferred[None] = Deferred()
        self.pid: int | None = None

    def processEnded(self, reason: Any) -> None:  # noqa: N802
        self.supervisor.worker_ended(self)
        self.ended.callback(None)


class Supervisor(service.MultiService):
    def __init__(
        self,
        reactor: Any,
        config_path: str,
        endpoint: str,
        count: int,
        grace: float,
        admin_endpoint: str,
        tls: tuple[str, str],
    ) -> None:
        super().__init__()
        self.reactor, self.config_path, self.endpoint, self.count = reactor, config_path, endpoint, count
        self.grace, self.tls = grace, tls
        listening_socket(endpoint).close()  # a bad endpoint or a port in use: fail before starting
        self.metrics_dir = tempfile.mkdtemp(prefix="docval-metrics-")
        self.workers: dict[_Worker, Any] = {}
        self.stopping = False
        if admin_endpoint:
            listen = endpoints.server_endpoint(reactor, admin_endpoint, ciphers=tls[0], min_version=tls[1])
            internet.StreamServerEndpointService(listen, _admin_site(self)).setServiceParent(self)

    def startService(self) -> None:  # noqa: N802
        super().startService()
        for _ in range(self.count):
            self.spawn()
        signal.signal(signal.SIGHUP, lambda *_: self.reactor.callFromThread(self._signal_all, "HUP"))

    def spawn(self) -> None:
        if self.stopping:
            return
        worker = _Worker(self)
        args = [sys.executable, "-m", "docval_server.workers", "--config", self.config_path]
        args += ["--endpoint", self.endpoint]
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": self.metrics_dir}
        fds = {0: "w", 1: 1, 2: 2}
        process = self.reactor.spawnProcess(worker, sys.executable, args, env=env, childFDs=fds)
        self.workers[worker] = process
        worker.pid = process.pid
        log.info("worker {pid} started", pid=process.pid)

    def worker_ended(self, worker: _Worker) -> None:
        self.workers.pop(worker, None)
        pid = worker.pid
        if pid is not None:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(pid, self.metrics_dir)
        if not self.stopping:
            log.warn("worker {pid} ended; starting another", pid=pid)
            self.reactor.callLater(1.0, self.spawn)

    def _signal_all(self, name: str) -> None:
        for process in list(self.workers.values()):
            try:
                process.signalProcess(name)
            except Exception:  # noqa: BLE001 - it may have just ended
                pass

    def stopService(self) -> Deferred[Any]:  # noqa: N802
        self.stopping = True
        ended = [worker.ended for worker in self.workers]
        self._signal_all("TERM")
        kill = self.reactor.callLater(self.grace + 10, self._signal_all, "KILL")

        def done(_: Any) -> Any:
            if kill.active():
                kill.cancel()
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
            return super(Supervisor, self).stopService()

        return DeferredList(ended).addBoth(done)


class _SupervisorPage(Resource):
    isLeaf = True

    def __init__(self, supervisor: Supervisor) -> None:
        super().__init__()
        self.supervisor = supervisor


class _Health(_SupervisorPage):
    def render_GET(self, request: Request) -> bytes:  # noqa: N802
        request.setHeader(b"content-type", b"application/json")
        alive = len(self.supervisor.workers)
        if self.supervisor.stopping or not alive:
            request.setResponseCode(503)
        status = "ok" if alive and not self.supervisor.stopping else "stopping"
        return json.dumps({"status": status, "workers": alive}).encode()


class _Metrics(_SupervisorPage):
    def render_GET(self, request: Request) -> bytes:  # noqa: N802
        from .metrics import CONTENT_TYPE, aggregate

        request.setHeader(b"content-type", CONTENT_TYPE.encode())
        return aggregate(self.supervisor.metrics_dir)


def _admin_site(supervisor: Supervisor) -> Site:
    root = Resource()
    root.putChild(b"health", _Health(supervisor))
    root.putChild(b"metrics", _Metrics(supervisor))
    return Site(root)


# -- the worker process ---------------------------------------------------------------------


def worker_main(argv: list[str] | None = None) -> int:
    """One worker: the server of :mod:`docval_server.tap` on its own SO_REUSEPORT socket."""
    parser = argparse.ArgumentParser(prog="docval_server.workers")
    parser.add_argument("--config", required=True)
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args(argv)

    from twisted.internet import reactor as _reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver
    from twisted.protocols.tls import TLSMemoryBIOFactory

    from .loading import load, make_server
    from .protocol import make_site

    reactor: Any = _reactor
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)])  # type: ignore[list-item]
    server = make_server(load({"config": args.config, "endpoint": args.endpoint}), reactor)
    site: Any = make_site(server)
    if args.endpoint.startswith("ssl:"):
        tls = endpoints.tls_context_of(
            args.endpoint, server.config.tls_ciphers, server.config.tls_min_version
        )
        site = TLSMemoryBIOFactory(tls, False, site)
    sock = listening_socket(args.endpoint)
    port = reactor.adoptStreamPort(sock.fileno(), sock.family, site)
    sock.close()  # the reactor holds its own duplicate

    def stop() -> None:
        port.stopListening()
        server.drain(server.config.shutdown_grace).addBoth(lambda _: reactor.stop())

    signal.signal(signal.SIGTERM, lambda *_: reactor.callFromThread(stop))
    signal.signal(signal.SIGHUP, lambda *_: reactor.callFromThread(server.reload_trust))
    log.info("worker {pid} serving", pid=os.getpid())
    reactor.run(installSignalHandlers=False)
    return 0


if __name__ == "__main__":
    sys.exit(worker_main())
