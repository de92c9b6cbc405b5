"""Server settings from a TOML file, validated in one place.

Example (``examples/docval.toml``)::

    [server]
    endpoint = "tcp:8765:interface=127.0.0.1"   # TLS: "ssl:8443:privateKey=k.pem:certKey=c.pem"
    authorization = ""                          # if set, the handshake must carry this Authorization header
    include_files = false                       # add filesBinary to results
    shutdown_grace = 10.0                       # seconds sessions get to finish on shutdown
    admin_endpoint = ""                         # e.g. "tcp:9100:interface=127.0.0.1": /health, /metrics
    tls_ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20"  # TLS 1.2 suites of ssl: endpoints (1.3 is always AEAD)
    tls_min_version = "1.2"                     # or "1.3"

    [limits]
    start_timeout = 10.0
    apdu_timeout = 15.0
    max_session_time = 120.0
    max_message_size = 2097152                  # bytes, after permessage-deflate inflation
    max_files = 20
    max_connections = 896                       # open connections in all (kept below ulimit -n - 64)
    max_connections_per_address = 64            # from one client address (carrier NAT: be generous)
    header_timeout = 10.0                       # seconds for complete request headers, in all
    failures_per_address = 10                   # failed client ids / Authorization before HTTP 429
    failure_refill_seconds = 6.0                # one failure forgiven per this many seconds

    [trust]
    paths = ["trust/"]                          # CSCA certificates, master lists, CRLs
    reload_interval = 0                         # seconds between file checks; 0: reload on SIGHUP only
    crl_refresh_interval = 0                    # seconds between downloads of the CSCAs' CRLs; 0: off
    crl_cache = "crl-cache"                     # where they go (loaded as a trust path)
    crl_download_timeout = 10.0                 # seconds per download
    crl_max_bytes = 10485760                    # per CRL

    [signing]                                   # optional RFC 9421 signature on the result POST
    key = "signing-key.pem"                     # Ed25519, ECDSA P-256/P-384 or RSA >= 2048 (PEM)
    key_id = "docval"
    validity = 300                              # seconds from the signature's created to its expires

    [clients.demo]
    result_url = "http://127.0.0.1:8090/results"
    headers = { "X-Api-Key" = "secret" }
    diagnostics = false                         # honour this client's enableDiagnostics (MONITORING logged)
    ca_relay = "auto"                           # "auto": CA in one flight for android/desktop, one APDU
                                                # at a time for iOS and others; or "one_flight"/"sequential"

Every problem is a :class:`ConfigError` with one line naming the key; relative paths are
resolved against the config file's folder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .endpoints import DEFAULT_TLS_CIPHERS, TLS_VERSIONS
from .guard import GuardLimits
from .posting import Target
from .session import Limits

CA_RELAY_MODES = ("auto", "one_flight", "sequential")


class ConfigError(Exception):
    """A configuration problem, phrased for one line of output."""


@dataclass(frozen=True)
class SigningConfig:
    key_path: Path
    key_id: str
    validity: float = 300.0  # seconds from created to expires


@dataclass(frozen=True)
class Config:
    endpoint: str = "tcp:8765:interface=127.0.0.1"
    authorization: str = ""
    shutdown_grace: float = 10.0
    max_message_size: int = 2 * 1024 * 1024
    limits: Limits = Limits()
    trust_paths: tuple[Path, ...] = ()
    clients: dict[str, Target] = field(default_factory=dict)
    signing: SigningConfig | None = None
    diagnostics: frozenset[str] = frozenset()  # client ids whose MONITORING may be logged
    ca_relay: dict[str, str] = field(default_factory=dict)  # client id -> "one_flight"/"sequential"
    guard: GuardLimits = GuardLimits()
    admin_endpoint: str = ""  # optional second listener for /health and /metrics only
    trust_reload_interval: float = 0.0  # seconds between checks of the trust files (0: SIGHUP only)
    crl_refresh_interval: float = 0.0  # seconds between CRL downloads from distribution points (0: off)
    crl_cache: Path | None = None  # where downloaded CRLs go (also loaded as a trust path)
    crl_download_timeout: float = 10.0
    crl_max_bytes: int = 10 * 1024 * 1024
    tls_ciphers: str = DEFAULT_TLS_CIPHERS  # TLS 1.2 suites for ssl: endpoints
    tls_min_version: str = "1.2"


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _take(table: dict[str, Any], section: str, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    if isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{section}.{key} must be a {getattr(kind, '__name__', 'number')}")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{section}.{key} must be a {names}")
    return value


def _positive(section: str, key: str, value: float) -> float:
    if value <= 0:
        raise ConfigError(f"{section}.{key} must be positive")
    return float(value)


def load(path: str | Path) -> Config:
    """Read and validate a config file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse(data, path.parent)


def parse(data: dict[str, Any], base: Path) -> Config:
    unknown = set(data) - {"server", "limits", "trust", "signing", "clients"}
    if unknown:
        raise ConfigError(f"unknown section [{sorted(unknown)[0]}]")
    server, limits_t, trust = _table(data, "server"), _table(data, "limits"), _table(data, "trust")
    number = (int, float)

    def limit(key: str, kind: type | tuple[type, ...], default: float) -> float:
        """A positive ``[limits]`` setting."""
        return _positive("limits", key, _take(limits_t, "limits", key, kind, default))

    limits = Limits(
        start_timeout=limit("start_timeout", number, 10.0),
        apdu_timeout=limit("apdu_timeout", number, 15.0),
        max_session_time=limit("max_session_time", number, 120.0),
        max_files=int(limit("max_files", int, 20)),
        include_files=_take(server, "server", "include_files", bool, False),
    )
    default = GuardLimits()
    guard = GuardLimits(
        max_connections=int(limit("max_connections", int, default.max_connections)),
        max_connections_per_address=int(
            limit("max_connections_per_address", int, default.max_connections_per_address)
        ),
        header_timeout=limit("header_timeout", number, default.header_timeout),
        failures_per_address=int(limit("failures_per_address", int, default.failures_per_address)),
        failure_refill_seconds=limit("failure_refill_seconds", number, default.failure_refill_seconds),
    )
    max_message = int(limit("max_message_size", int, 2 * 1024 * 1024))
    crl_refresh = float(_take(trust, "trust", "crl_refresh_interval", number, 0.0))
    cache_name = _take(trust, "trust", "crl_cache", str, None)
    if crl_refresh > 0 and not cache_name:
        raise ConfigError("trust.crl_refresh_interval needs trust.crl_cache (a writable folder)")
    crl_cache = base / cache_name if cache_name else None
    if crl_cache is not None:
        crl_cache.mkdir(parents=True, exist_ok=True)
    paths = _take(trust, "trust", "paths", list, [])
    if not paths or not all(isinstance(p, str) for p in paths):
        raise ConfigError("trust.paths must list at least one file or folder of CSCA certificates")
    clients = {}
    diagnostics = set()
    ca_relay: dict[str, str] = {}
    for client_id, entry in _table(data, "clients").items():
        if not isinstance(entry, dict):
            raise ConfigError(f"[clients.{client_id}] must be a table")
        url = _take(entry, f"clients.{client_id}", "result_url", str, None)
        parsed = urlparse(url or "")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"clients.{client_id}.result_url must be an http(s) URL")
        headers = _take(entry, f"clients.{client_id}", "headers", dict, {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise ConfigError(f"clients.{client_id}.headers must map strings to strings")
        clients[client_id] = Target(url, headers)
        if _take(entry, f"clients.{client_id}", "diagnostics", bool, False):
            diagnostics.add(client_id)
        mode = _take(entry, f"clients.{client_id}", "ca_relay", str, "auto")
        if mode not in CA_RELAY_MODES:
            raise ConfigError(f"clients.{client_id}.ca_relay must be one of {', '.join(CA_RELAY_MODES)}")
        if mode != "auto":
            ca_relay[client_id] = mode
    if not clients:
        raise ConfigError("no [clients.<id>] table: every session would be refused")
    signing = None
    if "signing" in data:
        table = _table(data, "signing")
        key = _take(table, "signing", "key", str, None)
        if not key:
            raise ConfigError("signing.key must name a PEM private key")
        validity = _positive("signing", "validity", _take(table, "signing", "validity", number, 300.0))
        signing = SigningConfig(base / key, _take(table, "signing", "key_id", str, "docval"), validity)
    return Config(
        endpoint=_take(server, "server", "endpoint", str, Config.endpoint),
        authorization=_take(server, "server", "authorization", str, ""),
        shutdown_grace=_positive(
            "server", "shutdown_grace", _take(server, "server", "shutdown_grace", number, 10.0)
        ),
        max_message_size=max_message,
        limits=limits,
        trust_paths=tuple(base / p for p in paths) + ((crl_cache,) if crl_cache is not None else ()),
        trust_reload_interval=float(_take(trust, "trust", "reload_interval", number, 0.0)),
        crl_refresh_interval=crl_refresh,
        crl_cache=crl_cache,
        crl_download_timeout=_positive(
            "trust", "crl_download_timeout", _take(trust, "trust", "crl_download_timeout", number, 10.0)
        ),
        crl_max_bytes=int(
            _positive("trust", "crl_max_bytes", _take(trust, "trust", "crl_max_bytes", int, 10 << 20))
        ),
        clients=clients,
        signing=signing,
        diagnostics=frozenset(diagnostics),
        ca_relay=ca_relay,
        guard=guard,
        admin_endpoint=_take(server, "server", "admin_endpoint", str, ""),
        tls_ciphers=_take(server, "server", "tls_ciphers", str, DEFAULT_TLS_CIPHERS),
        tls_min_version=_tls_version(_take(server, "server", "tls_min_version", str, "1.2")),
    )


def _tls_version(value: str) -> str:
    if value not in TLS_VERSIONS:
        raise ConfigError(f"server.tls_min_version must be one of {', '.join(TLS_VERSIONS)}")
    return value
