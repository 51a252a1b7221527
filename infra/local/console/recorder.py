"""What the local runtime did, kept in bounded memory for the console: invocations, logs, requests, events."""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.local.runtime.worker import LogSink

# Bounds: a long `make run` keeps at most this much, whatever it does (the README states the worst case).
# Worst case, every field full: 16 functions x 1,000 x (4,000 + 2,000 + 30 x 400) characters = 288 MB, plus
# 10,000 lines x 1,000; a typical record (an SQS batch of one, a task's small event) is about 2 KB.
INVOCATIONS_PER_FUNCTION = 1000
LOG_LINES = 10_000
LINES_PER_INVOCATION = 30
API_REQUESTS = 2000
BUS_EVENTS = 1000
NOTIFICATIONS = 1000
FILING_DELAY = 0.2
BACKLOG = 100_000  # items queued for filing; past it new ones are dropped (and counted), never blocked on
EVENT_CHARS = 4000
RESULT_CHARS = 2000
LINE_CHARS = 1000
INVOCATION_LINE_CHARS = 400


def clip(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters with a marker saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def as_json(value: Any, limit: int) -> str:
    """A value as compact JSON text (the C encoder: indenting is left to the page), clipped."""
    try:
        text = json.dumps(value, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return clip(text, limit)


@dataclass
class InvocationRecord:
    """One invocation: its cause, event, outcome and log lines."""

    function: str
    request_id: str
    started: float
    duration_ms: float
    trigger: dict[str, str]
    event: str
    result: str | None
    error: dict[str, str] | None
    logs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the handler returned normally."""
        return self.error is None

    def mentions(self, needle: str) -> bool:
        """True when the event, the result or a log line contains `needle`."""
        return needle in self.event or needle in (self.result or "") or any(needle in line for line in self.logs)


@dataclass(frozen=True)
class LogLine:
    """One line of `make run`'s output, by the process that wrote it."""

    at: float
    source: str
    text: str


@dataclass(frozen=True)
class ApiRequest:
    """One request the API answered (from its request record)."""

    at: float
    method: str
    path: str
    status: int
    ms: float
    correlation_id: str
    location: str | None


@dataclass(frozen=True)
class RuleMatch:
    """One rule of the bus an event was put on: whether it matched, and the targets it reached."""

    rule: str
    matched: bool
    targets: tuple[str, ...]


@dataclass(frozen=True)
class BusEvent:
    """One event put on a bus, with every rule of that bus."""

    at: float
    event_id: str
    bus: str
    source: str
    detail_type: str
    detail: str
    rules: tuple[RuleMatch, ...]

    @property
    def matched(self) -> list[RuleMatch]:
        """The rules that matched it."""
        return [r for r in self.rules if r.matched]


@dataclass(frozen=True)
class Notification:
    """One message published to the notification topic."""

    at: float
    message_id: str
    subject: str
    message: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class FunctionFigures:
    """A function's totals and the percentiles of its recorded invocations."""

    invocations: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


class Recorder:
    """Bounded history of the local stack, written by the runtime's hooks and read by the console.

    The hooks run on the invocation's path (the worker's log pump, the pool, moto's PutEvents), so they
    only queue what they are given; one thread of the recorder's own serialises, clips and files it. A
    reader first waits for what was queued before it (`settle`), so it sees a consistent history.
    """

    def __init__(self, per_function: int = INVOCATIONS_PER_FUNCTION, log_lines: int = LOG_LINES) -> None:
        self.per_function = per_function
        self._invocations: dict[str, deque[InvocationRecord]] = {}
        self._totals: dict[str, list[int]] = {}  # function -> [invocations, errors] since the start
        self._open: OrderedDict[str, list[str]] = OrderedDict()  # log lines of invocations still running
        self._logs: deque[LogLine] = deque(maxlen=log_lines)
        self._requests: deque[ApiRequest] = deque(maxlen=API_REQUESTS)
        self._events: deque[BusEvent] = deque(maxlen=BUS_EVENTS)
        self._notifications: deque[Notification] = deque(maxlen=NOTIFICATIONS)
        self.dropped = 0  # items the recorder could not keep up with (never, unless something floods it)
        self._lock = threading.Lock()
        self._inbox: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]]] = queue.SimpleQueue()
        self._holding = False  # the filing thread holds an item it has not filed yet
        self._hurry = threading.Event()
        self._worker = threading.Thread(target=self._work, name="console-recorder", daemon=True)
        self._worker.start()

    def _post(self, handler: Callable[..., None], *args: Any) -> None:
        # On the invocation's path: a size check and a put, nothing else (the bench holds it under 5%).
        if self._inbox.qsize() < BACKLOG:
            self._inbox.put((handler, args))
        else:
            self.dropped += 1

    def _work(self) -> None:
        while True:
            first = self._inbox.get()
            self._holding = True
            # Filing waits a moment, so that it runs after the invocation that queued it rather than beside it
            # (both need the GIL): a burst is filed in one go. A reader waiting for it cuts the wait short.
            self._hurry.wait(FILING_DELAY)
            self._hurry.clear()
            with self._lock:
                self._file(*first)
                while not self._inbox.empty():
                    self._file(*self._inbox.get_nowait())
                self._holding = False

    def _file(self, handler: Callable[..., None], args: tuple[Any, ...]) -> None:
        try:
            handler(*args)
        except Exception:  # noqa: BLE001 - a record that cannot be kept must not stop the recording
            self.dropped += 1

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until everything queued before this call is filed."""
        if self._inbox.empty() and not self._holding:
            return  # nothing waits to be filed; a batch being filed now holds the lock the reader takes next
        done = threading.Event()
        self._inbox.put((done.set, ()))
        self._hurry.set()
        done.wait(timeout)

    # Written by the runtime (InvocationObserver), the output sink, the bus and the topic: queued only.

    def invoked(
        self, function: str, request_id: str, event: Any, outcome: Any, started: float, trigger: Mapping[str, str]
    ) -> None:
        """Keep one finished invocation (the oldest of the function's goes when it has `per_function`)."""
        self._post(self._file_invocation, function, request_id, event, outcome, started, trigger)

    def logged(self, function: str, request_id: str | None, line: str) -> None:
        """Attach a worker's line to the invocation it belongs to."""
        if request_id is not None:
            self._post(self._file_line_of, request_id, line)

    def tap(self, sink: LogSink) -> LogSink:
        """A sink that prints through `sink` and keeps the line."""
        post, file_line, clock = self._post, self._file_line, time.time

        def tapped(line: str) -> None:
            sink(line)
            post(file_line, clock(), line)

        return tapped

    def line(self, line: str) -> None:
        """Keep one `[Source] text` line; the API's request records are kept as requests too."""
        self._post(self._file_line, time.time(), line)

    def bus_event(self, event: BusEvent) -> None:
        """Keep one event put on a bus."""
        self._post(self._events.append, event)

    def notification(self, envelope: Mapping[str, Any]) -> None:
        """Keep one SNS notification (the envelope SNS delivers to a queue)."""
        self._post(self._file_notification, time.time(), envelope)

    # Filed by the recorder's thread, under the lock.

    def _file_invocation(
        self, function: str, request_id: str, event: Any, outcome: Any, started: float, trigger: Mapping[str, str]
    ) -> None:
        error = outcome.error
        record = InvocationRecord(
            function=function,
            request_id=request_id,
            started=started,
            duration_ms=float(outcome.duration_ms),
            trigger=dict(trigger),
            event=as_json(event, EVENT_CHARS),
            result=None if error else as_json(outcome.result, RESULT_CHARS),
            error=None if error is None else {k: clip(str(error.get(k, "")), RESULT_CHARS) for k in _ERROR_KEYS},
            logs=self._open.pop(request_id, []),
        )
        self._invocations.setdefault(function, deque(maxlen=self.per_function)).append(record)
        totals = self._totals.setdefault(function, [0, 0])
        totals[0] += 1
        totals[1] += 0 if error is None else 1

    def _file_line_of(self, request_id: str, line: str) -> None:
        lines = self._open.get(request_id)
        if lines is None:
            lines = self._open[request_id] = []
            while len(self._open) > self.per_function:  # an invocation that never reported: forget it
                self._open.popitem(last=False)
        if len(lines) < LINES_PER_INVOCATION:
            lines.append(clip(line, INVOCATION_LINE_CHARS))

    def _file_line(self, at: float, line: str) -> None:
        source, text = "", line
        if line.startswith("[") and "] " in line:
            source, text = line[1:].split("] ", 1)
        self._logs.append(LogLine(at, source, clip(text, LINE_CHARS)))
        if '"message":"request"' in text and text.startswith("{"):
            self._file_request(at, text)

    def _file_request(self, at: float, text: str) -> None:
        try:
            record = json.loads(text)
            ms = float(record.get("ms", 0.0))
            request = ApiRequest(
                at=at - ms / 1000,  # when it arrived: the record is written as the answer leaves
                method=str(record["method"]),
                path=str(record["path"]),
                status=int(record["status"]),
                ms=ms,
                correlation_id=str(record.get("correlation_id") or ""),
                location=record.get("location"),
            )
        except (ValueError, KeyError, TypeError):
            return  # a line that only looks like a request record
        self._requests.append(request)

    def _file_notification(self, at: float, envelope: Mapping[str, Any]) -> None:
        attributes = {k: str(v.get("Value", "")) for k, v in dict(envelope.get("MessageAttributes") or {}).items()}
        self._notifications.append(
            Notification(
                at=at,
                message_id=str(envelope.get("MessageId", "")),
                subject=str(envelope.get("Subject") or ""),
                message=clip(str(envelope.get("Message", "")), RESULT_CHARS),
                attributes=attributes,
            )
        )

    # Read by the console.

    def logs(self) -> list[LogLine]:
        """The latest lines of `make run`'s output, oldest first."""
        return self._snapshot(self._logs)

    def requests(self) -> list[ApiRequest]:
        """The latest API requests, oldest first."""
        return self._snapshot(self._requests)

    def events(self) -> list[BusEvent]:
        """The latest events put on a bus, oldest first."""
        return self._snapshot(self._events)

    def notifications(self) -> list[Notification]:
        """The latest notifications, oldest first."""
        return self._snapshot(self._notifications)

    def _snapshot(self, kept: deque[Any]) -> list[Any]:
        self.settle()
        with self._lock:
            return list(kept)

    def invocations(self, function: str) -> list[InvocationRecord]:
        """A function's recorded invocations, newest first."""
        self.settle()
        with self._lock:
            return list(reversed(self._invocations.get(function, ())))

    def all_invocations(self) -> Iterable[InvocationRecord]:
        """Every recorded invocation, in no particular order."""
        self.settle()
        with self._lock:
            histories = [list(h) for h in self._invocations.values()]
        return (record for history in histories for record in history)

    def invocation(self, request_id: str) -> InvocationRecord | None:
        """One recorded invocation by request id."""
        return next((r for r in self.all_invocations() if r.request_id == request_id), None)

    def figures(self, function: str) -> FunctionFigures:
        """Totals since the start, and percentiles over the recorded window."""
        self.settle()
        with self._lock:
            invocations, errors = self._totals.get(function, [0, 0])
            durations = [r.duration_ms for r in self._invocations.get(function, ())]
        return FunctionFigures(invocations, errors, percentile(durations, 0.5), percentile(durations, 0.99))


_ERROR_KEYS = ("errorType", "errorMessage")
