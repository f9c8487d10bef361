"""Reading an answer body with a ceiling on its decoded size, as it streams in.

A server may send a body of any length, or a small compressed one that inflates to
gigabytes. :class:`BoundedBody` takes the body chunk by chunk as it arrives,
inflates gzip or deflate itself in steps no larger than what is still allowed, and
stops at ``limit + 1`` bytes: the process never holds much more than the limit,
whatever was sent. Pure (no I/O), so it is tested without sockets.
"""

from __future__ import annotations

import zlib

__all__ = ["SUPPORTED_ENCODINGS", "BodyDecodeError", "BoundedBody"]

_GZIP = 16 + zlib.MAX_WBITS
_ZLIB = zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS
_WBITS = {"gzip": _GZIP, "x-gzip": _GZIP, "deflate": _ZLIB}

SUPPORTED_ENCODINGS = "gzip, deflate"
"""What a client reading through :class:`BoundedBody` may announce in Accept-Encoding."""


class BodyDecodeError(ValueError):
    """The body is compressed in a way that cannot be read (unknown or corrupt)."""


class BoundedBody:
    """Collects a body of at most ``limit`` decoded bytes; ``feed`` says when to stop."""

    def __init__(self, limit: int, encoding: str | None = None) -> None:
        self.limit = limit
        self.size = 0
        self.oversized = False
        self._chunks: list[bytes] = []
        coding = (encoding or "identity").strip().lower()
        if coding != "identity" and coding not in _WBITS:
            raise BodyDecodeError(f"unsupported Content-Encoding {encoding!r}")
        self._wbits = _WBITS.get(coding, 0)
        self._inflater = None if coding == "identity" else zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes) -> bool:
        """Take the next chunk as received; False once the body is past the limit."""
        if self._inflater is None:
            return self._keep(data)
        while data:
            allowed = self.limit + 1 - self.size
            try:
                out = self._inflater.decompress(data, allowed)
            except zlib.error as error:
                if self._started or self._wbits != _ZLIB:
                    raise BodyDecodeError(f"corrupt compressed body: {error}") from None
                # "deflate" is sent with and without its zlib wrapper: try the bare form.
                self._wbits = _RAW_DEFLATE
                self._inflater = zlib.decompressobj(_RAW_DEFLATE)
                continue
            self._started = True
            if not self._keep(out):
                return False
            data = self._inflater.unconsumed_tail
            if not data and self._inflater.eof and self._inflater.unused_data:
                # Another gzip member follows: concatenated members make one body.
                data = self._inflater.unused_data
                self._inflater = zlib.decompressobj(self._wbits)
        return True

    def body(self) -> bytes:
        """What was collected: the whole body, or its first ``limit + 1`` bytes."""
        return b"".join(self._chunks)

    def _keep(self, chunk: bytes) -> bool:
        if not chunk:
            return True
        room = self.limit + 1 - self.size
        if len(chunk) > room:
            chunk = chunk[:room]
        self._chunks.append(chunk)
        self.size += len(chunk)
        if self.size > self.limit:
            self.oversized = True
            return False
        return True
