"""``--report FILE.html``: one self-contained page with the document as a person checks it:
the face photo (a JPEG 2000 face, which browsers do not show, converted to PNG), the holder's
and the document's data, and every check with ✔/✘/–, as gmrtd's reader shows a read.

No script, no external resource: the photo is a ``data:`` URI and every text is escaped, so
the page is safe to open from a chip whose text fields were written by anyone. It holds
personal data: the user asked for it by naming the file.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from . import summary

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; } .verdict { font-size: 1.6em; font-weight: bold; }
.valid { color: #176d2c; } .invalid { color: #a31515; }
table { border-collapse: collapse; margin: 1em 0; } td, th { padding: .2em .8em; text-align: left; }
th { color: #555; font-weight: normal; } img { max-height: 320px; border: 1px solid #ccc; }
.checks li { list-style: none; } .errors { color: #a31515; }
"""


def browser_photo(data: bytes) -> tuple[str, bytes] | None:
    """The face as a browser shows it: (MIME type, bytes); JPEG 2000 becomes PNG."""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:  # noqa: BLE001 - an undecodable photo is left out, and said so
        return None
    if image.format == "JPEG":
        return "image/jpeg", data
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return "image/png", out.getvalue()


def render(
    passport: Mapping[str, Any], notes: tuple[str, ...] = (), *, today: date, fail_expired: bool = False
) -> str:
    """The report page for a DocVal result."""
    e = html.escape
    lines = summary.lines(passport, notes, today=today, fail_expired=fail_expired)
    verdict = lines[-1]
    photo_html = "<p>No face photo in the result.</p>"
    if passport.get("facePhoto"):
        shown = browser_photo(base64.b64decode(passport["facePhoto"]))
        if shown is None:
            photo_html = "<p>The face photo could not be decoded.</p>"
        else:
            mime, data = shown
            uri = f"data:{mime};base64,{base64.b64encode(data).decode()}"
            photo_html = f'<img id="photo" alt="face photo" src="{uri}">'
    head = [line for line in lines[:-1] if not line.startswith("  ")]
    checks = [line.strip() for line in lines[:-1] if line.startswith("  ") and not line.startswith("  !")]
    errors = [line.strip()[2:] for line in lines[:-1] if line.startswith("  !")]
    rows = "".join(
        f"<tr><th>{e(label.rstrip(':'))}</th><td>{e(value.strip())}</td></tr>"
        for label, _, value in (
            line.partition(" ") if not line.startswith(" ") else ("", "", line) for line in head
        )
    )
    items = "".join(f"<li>{e(check)}</li>" for check in checks)
    problems = "".join(f"<li>{e(error)}</li>" for error in errors)
    verdict_class = "valid" if verdict == "VALID" else "invalid"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>docval: {e(verdict)}</title><style>{STYLE}</style></head>
<body>
<h1>Passport check</h1>
<p class="verdict {verdict_class}" id="verdict">{e(verdict)}</p>
{photo_html}
<table>{rows}</table>
<h2>Checks</h2><ul class="checks">{items}</ul>
{f'<h2>Findings</h2><ul class="errors">{problems}</ul>' if problems else ""}
<p><small>Made by docval-client on {e(today.isoformat())}. This page holds personal data.</small></p>
</body></html>
"""
