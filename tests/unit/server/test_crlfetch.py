"""CRL refresh from the CSCAs' distribution points (StubTreq and a Clock): the URL comes from
the certificate, the CRL lands in the cache and the reloaded store revokes; failures, slow
and oversized answers are skipped without touching the cache."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from treq.testing import StubTreq
from twisted.internet.defer import ensureDeferred
from twisted.internet.task import Clock
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from docval_server._types import HTTPGetter
from docval_server.crlfetch import distribution_points, refresh
from emrtd.sim import pki
from emrtd.truststore import TrustStore

URL = "http://crl.test/utopia.crl"


def _csca_with_crl() -> tuple[pki.Authority, pki.Authority, bytes]:
    key = pki.ec_key(pki.Seed(b"crlfetch"), "csca", "secp256r1")
    csca = pki.certificate(
        subject=pki.name("UT", "CSCA CRL DP"),
        key=key,
        issuer=None,
        serial=1,
        not_before=pki.utc(2024),
        not_after=pki.utc(2039),
        ca=True,
        crl_url=URL,
    )
    dsc_key = pki.ec_key(pki.Seed(b"crlfetch"), "dsc", "secp256r1")
    dsc = pki.certificate(
        subject=pki.name("UT", "DS CRL DP"),
        key=dsc_key,
        issuer=csca,
        serial=7,
        not_before=pki.utc(2025),
        not_after=pki.utc(2036),
        ca=False,
    )
    crl = pki.revocation_list(csca, [(7, pki.utc(2026, 1, 1))], pki.utc(2026), pki.utc(2036)).dump()
    return csca, dsc, crl


class Answer(Resource):
    isLeaf = True

    def __init__(self, body: bytes, *, hang: bool = False, status: int = 200) -> None:
        super().__init__()
        self.body, self.hang, self.status = body, hang, status

    def render_GET(self, request: Request) -> bytes | int:
        request.setResponseCode(self.status)
        if self.hang:
            request.write(self.body[:10])
            return NOT_DONE_YET
        return self.body


def _run(trust: TrustStore, cache: Path, resource: Resource, clock: Clock, limit: int = 1 << 20) -> list[int]:
    result: list[int] = []
    ensureDeferred(
        refresh(cast(HTTPGetter, StubTreq(resource)), clock, trust, cache, 10.0, limit)
    ).addCallback(result.append)
    clock.advance(11)
    return result


def test_a_downloaded_crl_revokes_after_the_reload(tmp_path: Path) -> None:
    """The CSCA's distribution point is fetched, cached, and the store built from the trust
    paths plus the cache revokes the DSC; an unchanged CRL is not counted again."""
    csca, dsc, crl = _csca_with_crl()
    (tmp_path / "trust").mkdir()
    (tmp_path / "trust" / "csca.pem").write_bytes(pki.pem("CERTIFICATE", csca.der))
    trust = TrustStore.load(tmp_path / "trust")
    assert distribution_points(trust) == [URL]
    cache = tmp_path / "crl-cache"
    assert _run(trust, cache, Answer(crl), Clock()) == [1]
    reloaded = TrustStore.load(tmp_path / "trust", cache)
    assert reloaded.is_revoked(dsc.certificate) and not trust.is_revoked(dsc.certificate)
    assert _run(trust, cache, Answer(crl), Clock()) == [0]


def test_failed_slow_or_oversized_downloads_are_skipped(tmp_path: Path) -> None:
    """HTTP 404, a body that never ends (timeout) and one over the size cap change nothing."""
    csca, _dsc, crl = _csca_with_crl()
    trust = TrustStore.from_der([csca.der])
    cache = tmp_path / "crl-cache"
    assert _run(trust, cache, Answer(b"", status=404), Clock()) == [0]
    assert _run(trust, cache, Answer(crl, hang=True), Clock()) == [0]
    assert _run(trust, cache, Answer(crl), Clock(), limit=100) == [0]
    assert list(cache.iterdir()) == []
