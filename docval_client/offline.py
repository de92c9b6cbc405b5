"""``docval-client read --offline``: read and verify a passport locally with :mod:`emrtd`, no
server. Access control (PACE from EF.CardAccess, else BAC), SOD and every data group, Chip
Authentication directly with the chip (confirmed by reading DG1 under the new keys), Active
Authentication with a local random challenge, Passive Authentication against a local trust
store; the result is the same ``passport`` object the server would post. Sans-I/O: an
:mod:`emrtd.exchange` the CLI runs against the card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from docval_server import passport as passport_json
from emrtd import access, activeauth, chipauth, passiveauth, reader
from emrtd.errors import EmrtdError, LDSError, StatusWordError
from emrtd.exchange import Exchange
from emrtd.lds import dg14
from emrtd.mrz import AccessKey
from emrtd.truststore import TrustStore

RandomSource = Callable[[int], bytes]
FILES = ("dg1", "dg2", "dg7", "dg11", "dg12", "dg15")


def verify_locally(
    key: AccessKey,
    trust: TrustStore,
    now: datetime,
    random: RandomSource,
    *,
    validation_id: str = "offline",
    max_block: int | reader.BlockSize = reader.DEFAULT_MAX_BLOCK,
) -> Exchange[dict[str, Any]]:
    """Read everything, run CA, AA and PA here; return the DocVal ``passport`` object."""
    errors: list[str] = []
    if not isinstance(max_block, reader.BlockSize):
        max_block = reader.BlockSize(max_block)  # one size for every read, falling back once
    sm, _protocol = yield from access.open_document(key, random, max_block=max_block)
    files: dict[str, bytes] = {}
    for name in ("sod", "dg14"):
        data = yield from reader.read_optional(reader.file_by_name(name), sm, max_block=max_block)
        if data is not None:
            files[name] = data
    ca: bool | None = None
    if "dg14" in files:
        try:
            infos = dg14.parse(files["dg14"]).security_infos
            info = infos.chip_authentication[0] if infos.chip_authentication else None
            plan = chipauth.prepare(infos.chip_authentication_keys[0], random, info)
            new = yield from chipauth.chip_authentication(plan, sm)
            # only the genuine chip can answer under the new keys
            dg1 = yield from reader.read_optional(reader.DATA_GROUPS[1], new, max_block=max_block)
            if dg1 is not None:
                files["dg1"] = dg1
            sm, ca = new, True
        except EmrtdError as exc:
            errors.append(f"chip authentication: {exc}")
            ca = False
            # the chip dropped its channel: open it again
            sm, _protocol = yield from access.open_document(key, random, max_block=max_block)
    signature = None
    challenge = random(8)
    for name in FILES:
        if name in files:
            continue
        data = yield from reader.read_optional(reader.file_by_name(name), sm, max_block=max_block)
        if data is None:
            continue
        files[name] = data
        if name == "dg15":
            try:
                signature = yield from activeauth.authenticate_with_dg15(data, challenge, sm)
            except (StatusWordError, LDSError) as exc:  # refused, or an unusable DG15 key
                errors.append(f"active authentication: {exc}")
    pa = passiveauth.verify(files, trust, now)
    aa: bool | None = None
    if "dg15" in files:
        aa = False
        if signature is not None:
            try:
                activeauth.verify_files(files, challenge, signature)
                aa = True
            except EmrtdError as exc:
                errors.append(f"active authentication: {exc}")
    chip = passiveauth.trusted_verdict(pa, 14, ca)
    active = passiveauth.trusted_verdict(pa, 15, aa)
    return passport_json.build(validation_id, files, pa, chip, active, errors)
