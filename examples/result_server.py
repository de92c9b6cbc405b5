#!/usr/bin/env python3
"""A small result server for the DocVal server to POST to: stores each result as JSON and
prints a one-line summary (no personal data beyond the verdicts).

    .venv/bin/python examples/result_server.py --port 8090 --out out/results

It accepts ``POST /results`` with a JSON body, answers ``204``, writes
``<out>/<validationId>.json``, and prints
``result <validationId>: PA ok, CA SUCCESS, AA SUCCESS``. ``GET /results/<validationId>``
returns a stored result (for scripts that wait for one).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from twisted.internet import endpoints, reactor
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class Results(Resource):
    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def getChild(self, path: bytes, request: Request) -> Resource:  # noqa: N802
        return self

    def render_POST(self, request: Request) -> bytes:  # noqa: N802
        try:
            assert request.content is not None
            body = json.loads(request.content.read(8 * 1024 * 1024))
            validation_id = body["validationId"]
        except (ValueError, KeyError, TypeError):
            request.setResponseCode(400)
            return b"expected a JSON result with validationId\n"
        if not isinstance(validation_id, str) or not SAFE_ID.match(validation_id):
            request.setResponseCode(400)
            return b"validationId must be 1-128 characters of [A-Za-z0-9._-]\n"
        (self.folder / f"{validation_id}.json").write_text(json.dumps(body, indent=2))
        pa = "ok" if body.get("passiveAuthentication") else "FAILED"
        print(
            f"result {validation_id}: PA {pa}, CA {body.get('chipAuthenticationResult')}, "
            f"AA {body.get('activeAuthenticationResult')}",
            flush=True,
        )
        request.setResponseCode(204)
        return b""

    def render_GET(self, request: Request) -> bytes:  # noqa: N802
        name = request.path.decode("ascii", "replace").rsplit("/", 1)[-1]
        path = self.folder / f"{name}.json"
        if not SAFE_ID.match(name) or not path.exists():
            request.setResponseCode(404)
            return b"no such result\n"
        request.setHeader(b"content-type", b"application/json")
        return path.read_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--interface", default="127.0.0.1")
    parser.add_argument("--out", type=Path, default=Path("out/results"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    root = Resource()
    root.putChild(b"results", Results(args.out))
    endpoint = endpoints.TCP4ServerEndpoint(reactor, args.port, interface=args.interface)

    def listening(port: object) -> None:
        print(f"result server listening on http://{args.interface}:{port.getHost().port}/results", flush=True)  # type: ignore[attr-defined]

    def failed(failure: object) -> None:
        print(
            f"error: cannot listen on {args.interface}:{args.port}: {failure.getErrorMessage()}",  # type: ignore[attr-defined]
            file=sys.stderr,
        )
        reactor.stop()  # type: ignore[attr-defined]

    endpoint.listen(Site(root)).addCallbacks(listening, failed)
    reactor.run()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
