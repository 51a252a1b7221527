"""CSV records from a stream of byte chunks, with the byte offset after each: memory stays flat.

Each physical line is decoded on its own, so a bad byte rejects one line, not the file. A quoted
field may span lines. A record longer than MAX_LINE_BYTES or MAX_RECORD_LINES is rejected whole,
without being held in memory: its lines are skipped, quotes counted, until its quoted field closes,
so that the rows after it are read from their own start and not from the middle of its field.
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
    """One physical line: its bytes (None when too long), the offset just after it, and its count of quotes."""

    data: bytes | None
    end: int
    quotes: int


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
    quotes = 0  # of the line so far: a skipped line's quotes still tell where its quoted field ends
    position = offset
    for chunk in chunks:
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            if newline < 0:
                break
            piece = chunk[start:newline]
            position += newline + 1 - start
            quotes += piece.count(b'"')
            too_long = skipping or len(buffer) + len(piece) > MAX_LINE_BYTES
            yield Line(None if too_long else bytes(buffer + piece), position, quotes)
            buffer.clear()
            skipping = False
            quotes = 0
            start = newline + 1
        rest = chunk[start:]
        position += len(rest)
        quotes += rest.count(b'"')
        if not skipping:
            buffer += rest
            if len(buffer) > MAX_LINE_BYTES:
                buffer.clear()
                skipping = True
    if buffer or skipping:
        yield Line(None if skipping else bytes(buffer), position, quotes)


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

    def quotes(self) -> int:
        return sum(text.count('"') for text in self.texts)


@dataclass
class _Oversized:
    """A record rejected for its size while its quoted field is open: its lines are skipped until it closes."""

    first: int
    quotes: int
    reason: str


_TOO_LONG = f"record is longer than {MAX_LINE_BYTES} bytes"
_TOO_MANY_LINES = f"record spans more than {MAX_RECORD_LINES} lines"


def records(chunks: Iterable[bytes], offset: int, line: int) -> Iterator[Record]:
    """CSV records; `line` is the number of lines before `offset`."""
    pending = _Pending()
    skipped: _Oversized | None = None
    end = offset
    for item in lines(chunks, offset):
        line, end = line + 1, item.end
        if skipped is None and item.data is None:
            if not pending.texts and item.quotes % 2 == 0:
                yield Record(line, line, item.end, error=f"line is longer than {MAX_LINE_BYTES} bytes")
                continue
            first = pending.first if pending.texts else line
            skipped = _Oversized(first, pending.quotes(), _TOO_LONG)
            pending.texts.clear()
        if skipped is not None:
            skipped.quotes += item.quotes
            if skipped.quotes % 2 == 0:  # its quoted field closed on this line: the next one starts a record
                yield Record(skipped.first, line, item.end, error=skipped.reason)
                skipped = None
            continue
        text, error = _decode(item, at_start=line == 1)
        if error is not None:
            if pending.texts:
                yield pending.unterminated()
            yield Record(line, line, item.end, error=error)
            continue
        joined = pending.add(line, item.end, text)
        if joined.count('"') % 2 == 1:
            if len(joined) > MAX_LINE_BYTES or len(pending.texts) >= MAX_RECORD_LINES:
                reason = _TOO_LONG if len(joined) > MAX_LINE_BYTES else _TOO_MANY_LINES
                skipped = _Oversized(pending.first, joined.count('"'), reason)
                pending.texts.clear()
            continue  # the quoted field goes on to the next line
        first = pending.first
        pending.texts.clear()
        if len(joined) > MAX_LINE_BYTES:
            yield Record(first, line, item.end, error=_TOO_LONG)
            continue
        yield _parse(first, line, item.end, joined)
    if skipped is not None:
        yield Record(skipped.first, line, end, error="unterminated quoted field")
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
