"""Optional CRL refresh from the distribution points named in the CSCA certificates (off by
default: ``trust.crl_refresh_interval = 0``).

Every ``crl_refresh_interval`` seconds the server downloads each ``http``/``https`` URL of the
CSCAs' CRL distribution points (at most :data:`MAX_URLS`), each within
``trust.crl_download_timeout`` seconds and ``trust.crl_max_bytes`` bytes, and writes what
changed to ``trust.crl_cache`` (a folder the trust store also loads). When something changed,
the trust store is reloaded as on SIGHUP, so a CRL is used only if a configured CSCA signed it
(the loader checks); a download that fails, is too big or too slow is logged and skipped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from emrtd.truststore import TrustStore

from ._types import Clock, HTTPGetter

log = Logger()
MAX_URLS = 1000


def distribution_points(trust: TrustStore) -> list[str]:
    """The http(s) CRL distribution point URLs of the store's CSCAs, in order, without repeats."""
    urls: dict[str, None] = {}
    for csca in trust.cscas:
        try:
            points = csca.certificate.crl_distribution_points
        except (ValueError, TypeError, KeyError):
            continue
        for point in points:
            url = point.url
            if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
                urls.setdefault(url, None)
    return list(urls)[:MAX_URLS]


class _Capped(Protocol):
    """Collects a response body up to ``limit`` bytes; more aborts the transfer."""

    def __init__(self, done: Deferred[bytes], limit: int) -> None:
        self.done, self.limit, self.size = done, limit, 0
        self.parts: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:  # noqa: N802
        self.size += len(data)
        if self.size > self.limit:
            if not self.done.called:
                self.done.errback(ValueError(f"more than {self.limit} bytes"))
            if self.transport is not None:
                self.transport.stopProducing()
            return
        self.parts.append(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:  # noqa: N802
        if not self.done.called:
            self.done.callback(b"".join(self.parts))


async def _download(client: HTTPGetter, clock: Clock, url: str, timeout: float, limit: int) -> bytes:
    request = client.get(url, allow_redirects=False)
    waiting: list[Deferred[Any]] = [request]
    deadline = clock.callLater(timeout, lambda: waiting[-1].cancel())
    try:
        response = await request
        if int(response.code) != 200:
            raise ValueError(f"HTTP {response.code}")
        def abort(_d: Deferred[bytes]) -> None:
            if reader.transport is not None:
                reader.transport.stopProducing()

        body: Deferred[bytes] = Deferred(abort)
        reader = _Capped(body, limit)
        waiting.append(body)
        response.deliverBody(reader)
        data: bytes = await body
        return data
    finally:
        if deadline.active():
            deadline.cancel()


async def refresh(
    client: HTTPGetter, clock: Clock, trust: TrustStore, cache: Path, timeout: float, limit: int
) -> int:
    """Download every distribution point once; returns how many cached CRLs changed."""
    cache.mkdir(parents=True, exist_ok=True)
    changed = 0
    for url in distribution_points(trust):
        try:
            data = await _download(client, clock, url, timeout, limit)
        except Exception as exc:  # noqa: BLE001 - a failed download is logged and skipped
            log.warn("CRL download from {url} failed: {error}", url=url, error=str(exc) or type(exc).__name__)
            continue
        path = cache / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".crl")
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            changed += 1
    return changed
