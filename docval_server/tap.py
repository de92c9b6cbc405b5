"""``twistd -n docval --config docval.toml [--endpoint ENDPOINT]``: the twistd plugin's
options and service.

The service listens on a Twisted endpoint string (``tcp:8765``, or for TLS
``ssl:8443:privateKey=key.pem:certKey=cert.pem``) and serves ``/ws2/validate``, ``/health``
and ``/metrics``. On shutdown it stops listening, gives running sessions
``server.shutdown_grace`` seconds, then closes them with 1001. A bad config, trust store or
signing key stops start-up with one ``docval: error: …`` line.
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.application import service, strports
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.python import usage

from emrtd.errors import TrustStoreError
from emrtd.truststore import TrustStore

from . import config as config_module
from . import signing
from .protocol import Server, make_site
from .results import ResultPoster


class Options(usage.Options):
    optParameters = [
        ["config", "c", "docval.toml", "the TOML configuration file"],
        ["endpoint", "e", None, "Twisted endpoint to listen on; overrides server.endpoint"],
    ]


class DocValService(service.MultiService):
    """The listening endpoint plus graceful shutdown of the sessions in flight."""

    def __init__(self, server: Server, endpoint: str) -> None:
        super().__init__()
        self.server = server
        self.listener = strports.service(endpoint, make_site(server))
        self.listener.setServiceParent(self)

    def stopService(self) -> Deferred[None]:  # noqa: N802
        async def stop() -> None:
            await self.listener.stopService()  # no new connections
            await self.server.drain(self.server.config.shutdown_grace)
            await super(DocValService, self).stopService()

        return ensureDeferred(stop())


def build(options: dict[str, Any], reactor: Any) -> DocValService:
    """The service, or :class:`config.ConfigError`/:class:`TrustStoreError` naming the problem."""
    import treq

    config = config_module.load(options["config"])
    trust = TrustStore.load(*config.trust_paths)
    signer = None
    if config.signing is not None:
        key = signing.load_key(config.signing.key_path)
        signer = signing.make_signer(key, config.signing.key_id, reactor.seconds)
    poster = ResultPoster(treq, reactor, signer=signer)
    server = Server(config, trust, poster, reactor)
    return DocValService(server, options.get("endpoint") or config.endpoint)


def makeService(options: dict[str, Any]) -> service.IService:  # noqa: N802
    from twisted.internet import reactor

    try:
        return build(options, reactor)
    except (config_module.ConfigError, TrustStoreError) as exc:
        print(f"docval: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
