"""What one server process needs, loaded and checked: the configuration, the trust store and
the signing key (:func:`load`), and the shared :class:`~docval_server.protocol.Server` built
from them (:func:`make_server`). Used by the twistd plugin (:mod:`docval_server.tap`) and by
each worker process (:mod:`docval_server.workers`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from emrtd.truststore import TrustStore

from . import config as config_module
from . import endpoints, signing
from .guard import fit_to_descriptor_limit
from .posting import ResultPoster
from .protocol import Server


@dataclass(frozen=True)
class Loaded:
    """The checked configuration, trust store and signing key."""

    config: config_module.Config
    trust: TrustStore
    key: signing.SigningKey | None


def load(options: dict[str, Any]) -> Loaded:
    """Config, trust store and signing key, or ConfigError/TrustStoreError naming the problem.
    The endpoints are built once here too (not listening), so that a bad endpoint string, TLS
    key or cipher list is a usage error before anything starts."""
    config = config_module.load(options["config"])
    from twisted.internet import reactor

    for description in filter(None, (options.get("endpoint") or config.endpoint, config.admin_endpoint)):
        try:
            endpoints.server_endpoint(
                reactor, description, ciphers=config.tls_ciphers, min_version=config.tls_min_version
            )
        except endpoints.EndpointError as exc:
            raise config_module.ConfigError(str(exc)) from None
    trust = TrustStore.load(*config.trust_paths)
    key = signing.load_key(config.signing.key_path) if config.signing is not None else None
    return Loaded(config, trust, key)


def make_server(loaded: Loaded, reactor: Any) -> Server:
    """The shared server state (config, trust, poster, metrics) of one process."""
    import treq

    config = loaded.config
    config = dataclasses.replace(config, guard=fit_to_descriptor_limit(config.guard))
    signer = None
    if config.signing is not None and loaded.key is not None:
        signer = signing.make_signer(
            loaded.key, config.signing.key_id, reactor.seconds, validity=config.signing.validity
        )
    poster = ResultPoster(treq, reactor, signer=signer)
    return Server(config, loaded.trust, poster, reactor)
