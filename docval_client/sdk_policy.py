"""Who may use the local SDK, where the passport's data may go, and what the app gets back:
the SDK's trust model, sans-I/O (parsing and matching only).

The seed (AusweisApp2's SDK) never hands personal data to the client application: the data
go to a server the user can see, and the user decides. Here:

* **Apps** are identified by their WebSocket ``Origin`` (``scheme://host[:port]``; ``null``
  for pages opened from files; ``none`` for native apps, which send no Origin). Only origins
  on the list may connect (HTTP 403 otherwise).
* **Servers**: each app has its own list of DocVal servers (``ws://``/``wss://`` URLs, the
  port may be ``*``). A ``serverUrl`` not on the app's list is refused before the card is
  touched. A server that is not on this machine must be ``wss://``; its TLS identity is the
  entry's ``ca_file`` (a CA or the server's own certificate), else the system's CAs.
* **Results**: the app gets the verdict and ``validationId``; the ``passport`` object (personal
  data) only when its entry says ``send_result = true``.
* **Consent**: unless the pair (app, server) is ``approved`` in the file, the user confirms
  each validation on the SDK's console.

Without a configuration file the policy is :data:`DEFAULT_POLICY`: pages served from this
machine (``http://localhost:*``, ``http://127.0.0.1:*``, ``http://[::1]:*``) and native
apps, servers on this machine only, no personal data to the app, every validation confirmed.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from emrtd.errors import EmrtdError

NO_ORIGIN = "none"  # native apps: no Origin header
NULL_ORIGIN = "null"  # pages opened from file://, sandboxed frames
DEFAULT_CONFIRM_TIMEOUT = 60.0
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class PolicyError(EmrtdError, ValueError):
    """The SDK configuration is wrong (the message names the file and the entry)."""


def default_config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``$XDG_CONFIG_HOME/docval/sdk.toml`` (``~/.config/docval/sdk.toml``)."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "docval" / "sdk.toml"


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class _Pattern:
    """``scheme://host[:port|:*][/path]``, matched field by field (never as a string)."""

    scheme: str
    host: str
    port: int | None  # None: any port
    path: str | None  # None: no path given (origins)

    @classmethod
    def parse(cls, text: str, schemes: Iterable[str], what: str) -> _Pattern:
        wildcard = ":*" in text
        parts = urlsplit(text.replace(":*", "", 1) if wildcard else text)
        if parts.scheme not in schemes or not parts.hostname:
            raise PolicyError(f"{what} {text!r}: give {'/'.join(schemes)}://host[:port]")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise PolicyError(f"{what} {text!r}: no user, query or fragment")
        try:
            port = None if wildcard else (parts.port or _DEFAULT_PORTS[parts.scheme])
        except ValueError:
            raise PolicyError(f"{what} {text!r}: bad port") from None
        return cls(parts.scheme, parts.hostname.lower(), port, parts.path or None)

    def matches(self, other: _Pattern) -> bool:
        return (
            self.scheme == other.scheme
            and self.host == other.host
            and (self.port is None or self.port == other.port)
            and (self.path is None or self.path == other.path)
        )

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = ":*" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path or ''}"


@dataclass(frozen=True)
class ServerRule:
    """A DocVal server an app may send the passport's data to."""

    url: str
    ca_file: str | None = None
    approved: bool = False  # the (app, server) pair needs no console confirmation
    #: HTTP headers sent with the WebSocket handshake to this server (``authorization`` sets
    #: ``Authorization``): the SDK's secret, never the app's.
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    pattern: _Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = _Pattern.parse(self.url, ("ws", "wss"), "server")
        if pattern.scheme == "ws" and not is_loopback(pattern.host):
            raise PolicyError(f"server {self.url!r}: a server not on this machine must be wss://")
        if self.ca_file is not None and pattern.scheme != "wss":
            raise PolicyError(f"server {self.url!r}: ca_file applies to wss:// servers only")
        object.__setattr__(self, "pattern", pattern)

    def tls_identity(self) -> str:
        """What the user is shown about the server's TLS identity."""
        if self.pattern.scheme == "ws":
            return "none (ws:// on this machine)"
        return f"certificate verified with {self.ca_file or 'the system CAs'}"


@dataclass(frozen=True)
class AppRule:
    """An origin that may connect, the servers it may use and whether it gets the passport."""

    origin: str
    servers: tuple[ServerRule, ...]
    send_result: bool = False
    pattern: _Pattern | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        special = self.origin in (NO_ORIGIN, NULL_ORIGIN)
        pattern = None if special else _Pattern.parse(self.origin, ("http", "https"), "origin")
        if pattern is not None and pattern.path not in (None, "/"):
            raise PolicyError(f"origin {self.origin!r}: an origin has no path")
        object.__setattr__(self, "pattern", pattern)

    def matches(self, origin: str) -> bool:
        if self.pattern is None:
            return origin == self.origin
        try:
            candidate = _Pattern.parse(origin, ("http", "https"), "origin")
        except PolicyError:
            return False
        return self.pattern.matches(replace(candidate, path=None))

    def server(self, url: str) -> ServerRule | None:
        try:
            candidate = _Pattern.parse(url, ("ws", "wss"), "serverUrl")
        except PolicyError:
            return None
        if candidate.port is None:  # a request names one port, never "*"
            return None
        return next((rule for rule in self.servers if rule.pattern.matches(candidate)), None)


LOOPBACK_SERVERS = (
    ServerRule("ws://127.0.0.1:*/ws2/validate"),
    ServerRule("ws://localhost:*/ws2/validate"),
    ServerRule("ws://[::1]:*/ws2/validate"),
)
LOOPBACK_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*")


@dataclass(frozen=True)
class Policy:
    apps: tuple[AppRule, ...]
    confirm_timeout: float = DEFAULT_CONFIRM_TIMEOUT
    source: str = "built-in defaults"

    def app(self, origin: str | None) -> AppRule | None:
        """The first rule for this Origin header value (None: a native app)."""
        key = NO_ORIGIN if origin is None else origin.strip()
        return next((rule for rule in self.apps if rule.matches(key)), None)

    def allowing(self, origins: Iterable[str]) -> Policy:
        """Add origins (``--allow-origin``) with the servers on this machine."""
        extra = tuple(AppRule(origin, LOOPBACK_SERVERS) for origin in origins)
        return replace(self, apps=self.apps + extra)


DEFAULT_POLICY = Policy(
    tuple(AppRule(origin, LOOPBACK_SERVERS) for origin in (*LOOPBACK_ORIGINS, NO_ORIGIN))
)


def parse(text: str, source: str) -> Policy:
    """A policy from the TOML text of ``sdk.toml`` (see the README for the format)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: {exc}") from None
    try:
        unknown = set(data) - {"confirm_timeout", "app"}
        if unknown:
            raise PolicyError(f"unknown setting {sorted(unknown)[0]!r}")
        timeout = data.get("confirm_timeout", DEFAULT_CONFIRM_TIMEOUT)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 1 <= timeout <= 3600:
            raise PolicyError("confirm_timeout must be 1 to 3600 seconds")
        apps = tuple(_app(entry) for entry in _tables(data.get("app", []), "app"))
    except PolicyError as exc:
        raise PolicyError(f"{source}: {exc.message}") from None
    return Policy(apps, float(timeout), source)


def load(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> Policy:
    """The policy from ``path`` (default: :func:`default_config_path`); the defaults when the
    default file does not exist. A file given explicitly must exist."""
    chosen = path or default_config_path(environ)
    try:
        text = chosen.read_text(encoding="utf-8")
    except FileNotFoundError:
        if path is not None:
            raise PolicyError(f"{chosen}: no such file") from None
        return DEFAULT_POLICY
    except OSError as exc:
        raise PolicyError(f"{chosen}: {exc.strerror}") from None
    return parse(text, str(chosen))


def _tables(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PolicyError(f"{what} must be a list of tables ([[{what}]])")
    return value


def _app(entry: dict[str, Any]) -> AppRule:
    unknown = set(entry) - {"origin", "send_result", "server"}
    if unknown:
        raise PolicyError(f"[[app]]: unknown setting {sorted(unknown)[0]!r}")
    origin = entry.get("origin")
    if not isinstance(origin, str):
        raise PolicyError("[[app]] needs origin = \"scheme://host[:port]\", \"null\" or \"none\"")
    send_result = entry.get("send_result", False)
    if not isinstance(send_result, bool):
        raise PolicyError(f"[[app]] {origin}: send_result must be true or false")
    servers = tuple(_server(item, origin) for item in _tables(entry.get("server", []), "app.server"))
    return AppRule(origin, servers, send_result)


def _server(entry: dict[str, Any], origin: str) -> ServerRule:
    unknown = set(entry) - {"url", "ca_file", "approved", "authorization", "headers"}
    if unknown:
        raise PolicyError(f"[[app.server]] of {origin}: unknown setting {sorted(unknown)[0]!r}")
    url, ca_file, approved = entry.get("url"), entry.get("ca_file"), entry.get("approved", False)
    if not isinstance(url, str):
        raise PolicyError(f"[[app.server]] of {origin} needs url = \"wss://host/ws2/validate\"")
    if ca_file is not None and not isinstance(ca_file, str):
        raise PolicyError(f"server {url}: ca_file must be a path")
    if not isinstance(approved, bool):
        raise PolicyError(f"server {url}: approved must be true or false")
    headers = entry.get("headers", {})
    one_line = all(
        isinstance(k, str) and isinstance(v, str) and not {"\n", "\r"} & set(k + v)
        for k, v in (headers.items() if isinstance(headers, dict) else ())
    )
    if not isinstance(headers, dict) or not one_line:
        raise PolicyError(f"server {url}: headers must map header names to one-line strings")
    authorization = entry.get("authorization")
    if authorization is not None:
        if not isinstance(authorization, str) or "\n" in authorization or "\r" in authorization:
            raise PolicyError(f"server {url}: authorization must be a one-line string")
        headers = {**headers, "Authorization": authorization}
    return ServerRule(url, ca_file, approved, tuple(sorted(headers.items())))
