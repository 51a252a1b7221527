"""What `make run` prints: one readable line per log record, never two records interleaved.

Functions log JSON (Powertools), as they do in AWS, where CloudWatch Logs Insights reads it. A person
at a terminal reads `time  function  LEVEL  message  key=value` instead; LOG_FORMAT=json keeps the JSON.
EMF metric records are CloudWatch's input, not a person's: hidden unless LOG_METRICS=1.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from datetime import datetime
from typing import Any, TextIO

_PREFIX = re.compile(r"^\[(?P<source>[A-Za-z0-9_.-]+)\] (?P<rest>.*)$", re.DOTALL)
# Powertools' own keys, shown in the line's columns or not at all.
_STANDARD = frozenset(
    {
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "sampling_rate",
        "xray_trace_id",
        "correlation_id",
        "exception",
        "exception_name",
        "stack_trace",
    }
)
_MAX_VALUE = 120
SOURCE_WIDTH = 26
# Characters that a terminal acts on instead of showing: C0 and C1 controls (CR, LF, VT, FF, ESC...), DEL,
# the Unicode line and paragraph separators and the bidi overrides. A request path or a field holding one
# could forge a log line or rewrite the screen, so each is printed as its escape (`\n`, `\x1b`, `\u202e`).
_UNSAFE = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ESCAPES = {code: chr(code).encode("unicode_escape").decode("ascii") for code in _UNSAFE}


def escaped(text: str) -> str:
    """The text with every control character written as its escape: one printed line stays one line."""
    return text.translate(_ESCAPES)


def is_metric(record: dict[str, Any]) -> bool:
    """An Embedded Metric Format record (CloudWatch turns it into metrics)."""
    aws = record.get("_aws")
    return isinstance(aws, dict) and "CloudWatchMetrics" in aws


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    text = text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"
    # json.dumps escapes every control character itself.
    return escaped(text) if text and " " not in text else json.dumps(text)


def _request_line(record: dict[str, Any]) -> str:
    path = record.get("path") or record.get("route", "")
    return f"{record.get('method', '?')} {path} → {record.get('status', '?')} ({record.get('ms', '?')} ms)"


def is_request(record: dict[str, Any]) -> bool:
    """The API's one record per request (an access line that carries its metrics)."""
    return record.get("message") == "request" and "method" in record


def _metric_keys(record: dict[str, Any]) -> set[str]:
    if not is_metric(record):
        return set()
    names = {m.get("Name") for d in record["_aws"]["CloudWatchMetrics"] for m in d.get("Metrics", [])}
    return {"_aws", *(n for n in names if isinstance(n, str))}


def is_runtime_error(record: dict[str, Any]) -> bool:
    """The runtime client's record of an unhandled error, as LoggingConfig's JSON format writes it."""
    return record.get("level") == "ERROR" and "errorType" in record and "stackTrace" in record


def _outcome(error_type: str) -> bool:
    """A domain outcome the workflow routes on (InsufficientInventory, PaymentFailed, ...), not a fault."""
    from app.domain import errors

    kind = getattr(errors, error_type, None)
    return isinstance(kind, type) and issubclass(kind, errors.DomainError) and kind is not errors.ServiceUnavailable


def _runtime_error_line(record: dict[str, Any]) -> str:
    """`[OUTCOME] Type: message` for an expected outcome; `[ERROR] Type: message` and its stack for a fault."""
    kind, message = str(record["errorType"]), str(record.get("errorMessage", ""))
    if _outcome(kind):
        return escaped(f"[OUTCOME] {kind}: {message}")
    frames = [line for frame in record.get("stackTrace") or [] for line in str(frame).rstrip().split("\n")]
    return "\n".join([escaped(f"[ERROR] {kind}: {message}"), *(f"    {escaped(line)}" for line in frames)])


def render_record(record: dict[str, Any]) -> str:
    """A Powertools JSON record as `LEVEL  message  key=value …` (traceback lines indented below)."""
    if is_runtime_error(record):
        return _runtime_error_line(record)
    if is_request(record):
        message = _request_line(record)
        hidden = _STANDARD | _metric_keys(record) | {"method", "path", "route", "status", "ms"}
        extra = {k: v for k, v in record.items() if k not in hidden}
    else:
        message = str(record.get("message", ""))
        extra = {k: v for k, v in record.items() if k not in _STANDARD}
    fields = [f"{k}={_value(v)}" for k, v in extra.items() if v is not None]
    if record.get("correlation_id"):
        fields.append(f"cid={_value(record['correlation_id'])}")
    line = f"{escaped(str(record.get('level', 'INFO'))):<5}  {escaped(message)}"
    if fields:
        line += "  " + " ".join(fields)
    trace = record.get("exception")
    if isinstance(trace, str) and trace:
        # A traceback's own line breaks are kept (indented below the record); what its lines hold is escaped.
        line += "\n" + "\n".join(f"    {escaped(t)}" for t in trace.rstrip().split("\n"))
    return line


class Output:
    """A thread-safe printer that formats the runtime's `[Source] text` lines for a person."""

    def __init__(self, stream: TextIO | None = None, fmt: str | None = None, metrics: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.json = (fmt or os.environ.get("LOG_FORMAT", "text")).lower() == "json"
        self.metrics = metrics if metrics is not None else os.environ.get("LOG_METRICS", "") in ("1", "true")
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        """Format and print one line (or block); a record is written whole, under one lock."""
        text = self.format(line)
        if text is None:
            return
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def block(self, text: str) -> None:
        """Print text as it is (the banner), under the same lock."""
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def format(self, line: str) -> str | None:
        """The text to print for a line, or None when it is hidden."""
        match = _PREFIX.match(line)
        source, rest = (match["source"], match["rest"]) if match else ("", line)
        record = _json_object(rest)
        if record is not None and is_metric(record) and not self.metrics and not is_request(record):
            return None
        if self.json:
            return line
        stamp = datetime.now().strftime("%H:%M:%S.%f")[:12]
        body = render_record(record) if record is not None and "level" in record else _plain(rest)
        return f"{stamp}  {source:<{SOURCE_WIDTH}} {body}" if source else f"{stamp}  {body}"


def _plain(text: str) -> str:
    """A line that is no JSON record; its CRs and LFs (a one-record traceback, a notification) break it, and
    every line after the first is indented, so that no text inside it reads as a record of its own."""
    first, *more = re.split(r"\r\n?|\n", text.rstrip("\r\n"))
    return "\n".join([escaped(first), *(_indented(escaped(line)) for line in more)])


def _indented(line: str) -> str:
    return line if line.startswith(" ") else f"    {line}"


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
