"""Multi-page articles travel as one raw record: the pages' bodies, each byte for byte, in a container.

The format is a minimal ``multipart/mixed`` body: every part starts with
``--BOUNDARY``, a ``Content-Type`` and a ``Content-Location`` line, an empty line,
then the page's bytes untouched; ``--BOUNDARY--`` ends it. The boundary is chosen
so that it occurs in no part. The crawler packs (page 1 first), the cleaner unpacks.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MULTIPART = "multipart/mixed"
BOUNDARY_RE = re.compile(r'boundary="?([^";\s]+)"?', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Part:
    url: str
    content_type: str | None
    body: bytes


def pack_parts(parts: list[Part]) -> tuple[str, bytes]:
    """(content type, body) of a container holding ``parts`` in order."""
    seed = hashlib.sha256(b"".join(p.body for p in parts)).hexdigest()
    boundary = f"newsflow-{seed[:24]}"
    while any(boundary.encode() in p.body for p in parts):
        boundary += "x"
    chunks = []
    for part in parts:
        head = f"--{boundary}\r\nContent-Type: {part.content_type or 'application/octet-stream'}\r\n"
        head += f"Content-Location: {part.url}\r\n\r\n"
        chunks.append(head.encode("latin-1", "replace") + part.body + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return f'{MULTIPART}; boundary="{boundary}"', b"".join(chunks)


def is_multipart(content_type: str | None) -> bool:
    return bool(content_type) and str(content_type).lower().startswith(MULTIPART)


def unpack_parts(body: bytes, content_type: str) -> list[Part]:
    """The parts of a container made by :func:`pack_parts`; ValueError if it is not one."""
    found = BOUNDARY_RE.search(content_type)
    if not found:
        raise ValueError("multipart body without a boundary")
    delimiter = f"--{found.group(1)}".encode()
    sections = body.split(delimiter)
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        raise ValueError("multipart body is not closed")
    parts = []
    for section in sections[1:-1]:
        head, sep, data = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("multipart part without headers")
        fields = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n") if ": " in line)
        parts.append(Part(fields.get("Content-Location", ""), fields.get("Content-Type"), data.removesuffix(b"\r\n")))
    return parts
