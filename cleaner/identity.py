"""Identity: article id from the canonical URL, content hash, near-duplicate signature.

The signature is a 64-bit SimHash over character 4-grams of the normalised
text (CJK has no spaces, so characters, not words, are the shingles). Reposts
(转载) of one article across sites differ in a few bits; compare with
:func:`hamming` (≤ 3 bits of 64 is a near duplicate).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SHINGLE = 4
SIGNATURE_BITS = 64
NOISE_RE = re.compile(r"[\W_]+", re.UNICODE)
TRACKING_PARAMS = re.compile(r"^(utm_|spm$|from$|share)", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, fragment or tracking parameters."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    )
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", query, ""))


BIT_TABLES = tuple(bytes((value >> bit) & 1 for value in range(256)) for bit in range(8))


def _digest(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=size).hexdigest()


def article_id(url: str | None, content_hash: str) -> str:
    """Stable id: a hash of the canonical URL, or of the content when there is no URL."""
    return _digest(canonical_url(url), 10) if url else content_hash[:20]


def content_hash(text: str) -> str:
    return _digest(NOISE_RE.sub("", text), 16)


def simhash(text: str) -> str:
    """64-bit SimHash of the distinct character 4-grams, as 16 hex digits."""
    plain = NOISE_RE.sub("", text)
    shingles = {plain[i : i + SHINGLE] for i in range(max(len(plain) - SHINGLE + 1, 1))}
    blake = hashlib.blake2b
    digests = b"".join([blake(s.encode("utf-8"), digest_size=8).digest() for s in shingles])
    # count the set bits of each bit position in C: one byte column of all digests at a time,
    # each bit of it mapped to 0/1 by a translation table and counted
    half = len(shingles) / 2
    signature = 0
    for column in range(SIGNATURE_BITS // 8):
        bytes_of_column = digests[column :: SIGNATURE_BITS // 8]
        for bit, table in enumerate(BIT_TABLES):
            if bytes_of_column.translate(table).count(1) > half:
                signature |= 1 << (SIGNATURE_BITS - 1 - (column * 8 + bit))
    return f"{signature:016x}"


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
