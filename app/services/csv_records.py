"""CSV records from a stream of byte chunks, with the byte offset after each: memory stays flat.

Each physical line is decoded on its own, so a bad byte rejects one line, not the file. A quoted
field may span lines (up to MAX_RECORD_LINES). A line longer than MAX_LINE_BYTES is skipped
without being held in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MAX_LINE_BYTES = 64 * 1024
MAX_RECORD_LINES = 20
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Line:
    """One physical line: its bytes (None when too long) and the offset just after it."""

    data: bytes | None
    end: int


@dataclass(frozen=True)
class Record:
    """One CSV record: its first and last line numbers, the offset after it, and its fields or why it is bad."""

    line: int
    last: int
    end: int
    fields: list[str] | None = None
    error: str | None = None

    @property
    def blank(self) -> bool:
        """An empty line: skipped, not a row."""
        return self.fields == [] and self.error is None


def lines(chunks: Iterable[bytes], offset: int) -> Iterator[Line]:
    """Split chunks into lines (without the newline); `offset` is where the first chunk starts."""
    buffer = bytearray()
    skipping = False
    position = offset
    for chunk in chunks:
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            if newline < 0:
                break
            piece = chunk[start:newline]
            position += newline + 1 - start
            too_long = skipping or len(buffer) + len(piece) > MAX_LINE_BYTES
            yield Line(None if too_long else bytes(buffer + piece), position)
            buffer.clear()
            skipping = False
            start = newline + 1
        rest = chunk[start:]
        position += len(rest)
        if not skipping:
            buffer += rest
            if len(buffer) > MAX_LINE_BYTES:
                buffer.clear()
                skipping = True
    if buffer or skipping:
        yield Line(None if skipping else bytes(buffer), position)


class _Pending:
    """The lines of a record whose quoted field is still open."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.first = 0
        self.last = 0
        self.end = 0

    def add(self, line: int, end: int, text: str) -> str:
        if not self.texts:
            self.first = line
        self.texts.append(text)
        self.last, self.end = line, end
        return "\n".join(self.texts)

    def unterminated(self) -> Record:
        record = Record(self.first, self.last, self.end, error="unterminated quoted field")
        self.texts.clear()
        return record


def records(chunks: Iterable[bytes], offset: int, line: int) -> Iterator[Record]:
    """CSV records; `line` is the number of lines before `offset`."""
    pending = _Pending()
    for item in lines(chunks, offset):
        line += 1
        text, error = _decode(item, at_start=line == 1)
        if error is not None:
            if pending.texts:
                yield pending.unterminated()
            yield Record(line, line, item.end, error=error)
            continue
        joined = pending.add(line, item.end, text)
        if joined.count('"') % 2 == 1 and len(pending.texts) < MAX_RECORD_LINES and len(joined) <= MAX_LINE_BYTES:
            continue  # a quoted field goes on to the next line
        first = pending.first
        pending.texts.clear()
        yield _parse(first, line, item.end, joined)
    if pending.texts:
        yield pending.unterminated()


def _decode(item: Line, *, at_start: bool) -> tuple[str, str | None]:
    if item.data is None:
        return "", f"line is longer than {MAX_LINE_BYTES} bytes"
    data = item.data[len(_BOM) :] if at_start and item.data.startswith(_BOM) else item.data
    data = data.removesuffix(b"\r")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return "", f"line is not valid UTF-8 (byte 0x{data[exc.start]:02x} at column {exc.start + 1})"


def _parse(line: int, last: int, end: int, text: str) -> Record:
    if not text.strip():
        return Record(line, last, end, fields=[])
    if text.count('"') % 2 == 1:
        return Record(line, last, end, error="unterminated quoted field")
    try:
        fields = next(csv.reader([text], strict=True))
    except csv.Error as exc:
        return Record(line, last, end, error=f"not valid CSV: {exc}")
    return Record(line, last, end, fields=fields)
