"""``docval-client read --offline``: read and verify a passport locally with :mod:`emrtd`, no
server. Access control (PACE from EF.CardAccess, else BAC; PACE-CAM checked against
EF.CardSecurity), SOD and every data group, Chip Authentication directly with the chip
(confirmed by reading DG1 under the new keys), Active Authentication with a local random
challenge, Passive Authentication against a local trust store. The verdicts come from the
same :func:`emrtd.docval.verdict.verdicts` the server uses, and the result is the same
``passport`` object it would post. Sans-I/O: an :mod:`emrtd.exchange` the CLI runs against
the card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from emrtd import access, activeauth, chipauth, passiveauth, reader
from emrtd.docval import result, verdict
from emrtd.errors import EmrtdError, LDSError, StatusWordError
from emrtd.exchange import Exchange
from emrtd.interfaces import RandomSource
from emrtd.mrz import AccessKey
from emrtd.truststore import TrustStore

FILES = ("dg1", "dg2", "dg7", "dg11", "dg12", "dg15")


def _cam_outcome(cam: access.CamCheck, trust: TrustStore, now: datetime) -> verdict.Outcome:
    """PACE-CAM as the chip authentication of a document without CA in DG14: the chip proved
    the key of EF.CardSecurity, which counts once EF.CardSecurity's own signature and DSC
    chain verify (the key's authenticity comes from there, not from DG14)."""
    if not cam.verified:
        return verdict.failed(f"PACE-CAM: {cam.reason}")
    if cam.card_security is None:
        return verdict.failed("PACE-CAM: EF.CardSecurity was not read")
    checked = passiveauth.verify_card_security(cam.card_security, trust, now)
    if not checked.valid:
        return verdict.failed(f"PACE-CAM: EF.CardSecurity does not verify: {'; '.join(checked.errors)}")
    return verdict.Outcome(True, key_verified=True)


def verify_locally(
    key: AccessKey,
    trust: TrustStore,
    now: datetime,
    random: RandomSource,
    *,
    validation_id: str = "offline",
    max_block: int | reader.BlockSize = reader.DEFAULT_MAX_BLOCK,
    dump: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Exchange[dict[str, Any]]:
    """Read everything, run CA, AA and PA here; return the DocVal ``passport`` object. With
    ``dump`` (a dict to fill), every file the chip gives is kept there under ``files`` (EF.COM,
    EF.CardAccess, EF.CardSecurity and every data group it lets us read, not only those the
    result uses), with the access-control ``protocol``. ``progress(step, done, total)`` hears
    of each step and, for ``read NAME`` steps, of every block read."""

    def report(step: str, done: int = 0, total: int = 0) -> None:
        if progress is not None:
            progress(step, done, total)

    def reading(name: str) -> Callable[[int, int], None]:
        return lambda done, total: report(f"read {name}", done, total)

    if not isinstance(max_block, reader.BlockSize):
        max_block = reader.BlockSize(max_block)  # one size for every read, falling back once
    opened = yield from access.open_document(key, random, max_block=max_block)
    report(opened.protocol)
    sm = opened.sm
    files: dict[str, bytes] = {}
    for name in ("sod", "dg14"):
        data = yield from reader.read_optional(
            reader.file_by_name(name), sm, max_block=max_block, progress=reading(name)
        )
        if data is not None:
            files[name] = data
    chip = verdict.NOT_OFFERED
    ca_plan = chipauth.plan_from_dg14(files["dg14"], random) if "dg14" in files else None
    if isinstance(ca_plan, chipauth.CAPlan):
        report("chip authentication")
        try:
            new = yield from chipauth.chip_authentication(ca_plan, sm)
            # only the genuine chip can answer under the new keys
            dg1 = yield from reader.read_optional(reader.DATA_GROUPS[1], new, max_block=max_block)
            if dg1 is not None:
                files["dg1"] = dg1
            sm, chip = new, verdict.PASSED
        except EmrtdError as exc:
            chip = verdict.failed(str(exc))
            # the chip dropped its channel: open it again
            sm = (yield from access.open_document(key, random, max_block=max_block)).sm
    elif isinstance(ca_plan, chipauth.NoChipAuthentication) and ca_plan.offered:
        chip = verdict.failed(ca_plan.reason)
    if chip.passed is None and opened.cam is not None:
        chip = _cam_outcome(opened.cam, trust, now)
    signature = None
    aa_error: str | None = None
    challenge = random(8)
    for name in FILES:
        if name in files:
            continue
        data = yield from reader.read_optional(
            reader.file_by_name(name), sm, max_block=max_block, progress=reading(name)
        )
        if data is None:
            continue
        files[name] = data
        if name == "dg15":
            try:
                signature = yield from activeauth.authenticate_with_dg15(data, challenge, sm)
            except (StatusWordError, LDSError) as exc:  # refused, or an unusable DG15 key
                aa_error = str(exc)
    if dump is not None:
        kept: dict[str, bytes] = dict(files)
        extra = [reader.EF_COM] + [reader.DATA_GROUPS[n] for n in range(1, 17) if f"dg{n}" not in files]
        for ef in extra:
            try:
                data = yield from reader.read_optional(ef, sm, max_block=max_block)
            except StatusWordError:
                data = None  # refused (e.g. behind EAC): not in the dump
            if data is not None:
                kept[ef.name] = data
        if opened.cam is not None and opened.cam.card_security is not None:
            kept["cardsecurity"] = opened.cam.card_security
        if opened.card_access:
            kept["cardaccess"] = opened.card_access
        dump.update(files=kept, protocol=opened.protocol)
    pa = passiveauth.verify(files, trust, now)
    active = verdict.NOT_OFFERED
    if "dg15" in files:
        active = verdict.failed(aa_error or "the chip gave no signature")
        if signature is not None:
            try:
                activeauth.verify_files(files, challenge, signature)
                active = verdict.PASSED
            except EmrtdError as exc:
                active = verdict.failed(str(exc))
    if dump is not None:  # what the chip did, before the trust order (PA is redone on verify)
        dump["live"] = {"chipAuthentication": _seen(chip), "activeAuthentication": _seen(active)}
    return result.build(validation_id, files, pa, verdict.verdicts(pa, chip, active))


def _seen(outcome: verdict.Outcome) -> str:
    if outcome.passed is None:
        return "UNAVAILABLE"
    return "SUCCESS" if outcome.passed else "FAILED"
