"""``twistd -n docval --config docval.toml [--endpoint ENDPOINT]``: the twistd plugin's
options and service.

The service listens on a Twisted endpoint string (``tcp:8765``, or for TLS
``ssl:8443:privateKey=key.pem:certKey=cert.pem``) and serves ``/ws2/validate``, ``/health``
and ``/metrics``. On shutdown it stops listening, gives running sessions
``server.shutdown_grace`` seconds, then closes them with 1001. A bad config, trust store or
signing key is a :class:`twisted.python.usage.UsageError` raised while the options are
parsed, as Twisted's own plugins do: ``twistd`` prints its usage and ends with one line
naming the problem (``twistd … docval: cannot read docval.toml: …``), and nothing starts.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from twisted.application import internet, service
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.internet.task import LoopingCall
from twisted.python import usage

from emrtd.errors import TrustStoreError

from . import config as config_module
from . import endpoints
from .loading import Loaded, load, make_server
from .protocol import Server, make_admin_site, make_site


class Options(usage.Options):
    optParameters = [
        ["config", "c", "docval.toml", "the TOML configuration file"],
        ["endpoint", "e", None, "Twisted endpoint to listen on; overrides server.endpoint"],
        ["workers", "w", "1", "worker processes sharing the listening socket (tcp:/ssl: endpoints)"],
    ]

    def postOptions(self) -> None:  # noqa: N802
        """Load and check the configuration and trust store now, so that a mistake is a
        usage error before anything starts."""
        try:
            self["loaded"] = load(self)
        except (config_module.ConfigError, TrustStoreError) as exc:
            raise usage.UsageError(str(exc)) from None
        try:
            self["workers"] = int(self["workers"])
        except ValueError:
            raise usage.UsageError("--workers must be a number") from None
        if not 1 <= self["workers"] <= 256:
            raise usage.UsageError("--workers must be 1 to 256")


class DocValService(service.MultiService):
    """The listening endpoint plus graceful shutdown of the sessions in flight."""

    def __init__(self, server: Server, endpoint: str, reactor: Any) -> None:
        super().__init__()
        self.server, self.reactor = server, reactor
        config = server.config

        def listen(description: str) -> IStreamServerEndpoint:
            return endpoints.server_endpoint(
                reactor, description, ciphers=config.tls_ciphers, min_version=config.tls_min_version
            )

        self.listener = internet.StreamServerEndpointService(listen(endpoint), make_site(server))
        self.listener.setServiceParent(self)
        if config.admin_endpoint:
            admin = internet.StreamServerEndpointService(
                listen(config.admin_endpoint), make_admin_site(server)
            )
            admin.setServiceParent(self)

    def startService(self) -> None:  # noqa: N802
        """Besides listening: SIGHUP reloads the trust store, and with ``trust.reload_interval``
        a periodic check of the trust files' modification times does too."""
        super().startService()
        reactor = self.reactor
        signal.signal(signal.SIGHUP, lambda _signum, _frame: reactor.callFromThread(self.server.reload_trust))
        refresh = self.server.config.crl_refresh_interval
        if refresh > 0:
            import treq

            self.crl_refresher = LoopingCall(self.server.refresh_crls, treq)
            self.crl_refresher.clock = reactor
            self.crl_refresher.start(refresh, now=True)
        interval = self.server.config.trust_reload_interval
        if interval > 0:
            self.fingerprint = trust_fingerprint(self.server.config.trust_paths)
            self.checker = LoopingCall(self._check_trust_files)
            self.checker.clock = reactor
            self.checker.start(interval, now=False)

    def _check_trust_files(self) -> None:
        now = trust_fingerprint(self.server.config.trust_paths)
        if now != self.fingerprint:
            self.fingerprint = now
            self.server.reload_trust()

    def stopService(self) -> Deferred[None]:  # noqa: N802
        async def stop() -> None:
            await self.listener.stopService()  # no new connections
            for loop in (getattr(self, "checker", None), getattr(self, "crl_refresher", None)):
                if loop is not None and loop.running:
                    loop.stop()
            await self.server.drain(self.server.config.shutdown_grace)
            await super(DocValService, self).stopService()

        return ensureDeferred(stop())


def trust_fingerprint(paths: tuple[Path, ...]) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime_ns, size) of every file under the trust paths: a change means reload."""
    files: list[Path] = []
    for path in paths:
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stamps = []
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        stamps.append((str(file), stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


def build(options: dict[str, Any], reactor: Any) -> service.IService:
    """The service from parsed options (loading them when :meth:`Options.postOptions` has not):
    one server, or with ``--workers N`` a supervisor of N worker processes."""
    loaded: Loaded = options.get("loaded") or load(options)
    config = loaded.config
    endpoint = options.get("endpoint") or config.endpoint
    workers = int(options.get("workers") or 1)
    try:
        if workers > 1:
            from .workers import Supervisor

            return Supervisor(
                reactor,
                options["config"],
                endpoint,
                workers,
                config.shutdown_grace,
                config.admin_endpoint,
                (config.tls_ciphers, config.tls_min_version),
            )
        return DocValService(make_server(loaded, reactor), endpoint, reactor)
    except (endpoints.EndpointError, OSError) as exc:
        raise usage.UsageError(str(exc)) from None


def makeService(options: dict[str, Any]) -> service.IService:  # noqa: N802
    from twisted.internet import reactor

    return build(options, reactor)
