"""The one byte range a GET asks for (RFC 9110 section 14), for audio players that seek."""

from dataclasses import dataclass


class Unsatisfiable(Exception):
    """The range starts at or past the end of the file: 416."""


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int  # exclusive

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


def requested(header: str | None, size: int) -> Span | None:
    """The span to send as a 206, or None for the whole file (no header, a header that is
    not one well-formed byte range: several ranges are answered whole, as RFC 9110 allows)."""
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()):
        return None
    if not first:  # bytes=-N: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return Span(max(0, size - suffix), size)
    start = int(first)
    if last and not last.isdigit():
        return None
    end = min(size, int(last) + 1) if last else size
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return Span(start, end)
