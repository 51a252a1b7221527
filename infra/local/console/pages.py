"""The console's pages of things: functions, queues, tables and buckets, schedules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from infra.local import throttling
from infra.local.console.render import known, of, page, schedules_of
from infra.local.runtime.cron import next_fire
from infra.local.runtime.trace import triggered_by
from infra.local.samples import sample_event

SHOWN_INVOCATIONS = 50
SHOWN_LOG_LINES = 300


HOT_KEYS = 12


def functions(request: Request) -> Response:
    """Every function's totals and percentiles."""
    console = of(request)
    rows = [(fid, console.recorder.figures(fid)) for fid in sorted(console.runtime.functions)]
    return page(request, "functions.html", title="Functions", rows=rows, dropped=console.recorder.dropped)


def function(request: Request) -> Response:
    """One function: figures, last invocations, its log lines, and the Invoke form."""
    console = of(request)
    fid = known(request.path_params["fid"], console.runtime.functions)
    needle = request.query_params.get("q", "").strip()
    invocations = [r for r in console.recorder.invocations(fid) if not needle or r.mentions(needle)]
    lines = [line for line in console.recorder.logs() if line.source == fid and (not needle or needle in line.text)]
    sample = json.dumps(sample_event(console.stack, fid), indent=2)
    return page(
        request,
        "function.html",
        title=fid,
        fid=fid,
        spec=console.runtime.functions[fid],
        figures=console.recorder.figures(fid),
        invocations=invocations[:SHOWN_INVOCATIONS],
        lines=lines[-SHOWN_LOG_LINES:],
        needle=needle,
        sample=request.query_params.get("event") or sample,
    )


async def invoke(request: Request) -> Response:
    """Invoke a function with the posted event, then show the invocation."""
    console = of(request)
    fid = known(request.path_params["fid"], console.runtime.functions)
    text = str((await request.form()).get("event", ""))
    try:
        event = json.loads(text)
    except ValueError as exc:
        return page(request, "error.html", 400, title="Not JSON", message=f"The event is not JSON: {exc}")

    def call() -> Any:
        with triggered_by(kind="console", source="the console's Invoke button"):
            return console.runtime.invoke(fid, event)

    outcome = await run_in_threadpool(call)
    return RedirectResponse(f"/functions/{fid}/invocations/{outcome.request_id}", status_code=303)


def invocation(request: Request) -> Response:
    """One recorded invocation: cause, event, result or error, log lines."""
    console = of(request)
    record = console.recorder.invocation(request.path_params["rid"])
    if record is None or record.function != request.path_params["fid"]:
        raise HTTPException(404, "no such invocation recorded (the history keeps the latest 1,000)")
    return page(request, "invocation.html", title=f"{record.function} {record.request_id}", record=record)


def queues(request: Request) -> Response:
    """Every queue's depth, in flight and DLQ depth."""
    console = of(request)
    rows = [console.resources.queue(q) for q in console.resources.queue_ids()]
    return page(request, "queues.html", title="Queues", rows=rows)


def queue(request: Request) -> Response:
    """One queue: its figures and its messages, read without receiving them."""
    console = of(request)
    qid = known(request.path_params["qid"], console.resources.queue_ids())
    return page(
        request,
        "queue.html",
        title=qid,
        queue=console.resources.queue(qid),
        messages=console.resources.peek(qid),
        moved=request.query_params.get("moved"),
        purged=request.query_params.get("purged"),
    )


def redrive(request: Request) -> Response:
    """Move a DLQ's messages back to its source queue."""
    console = of(request)
    qid = known(request.path_params["qid"], console.resources.queue_ids())
    figures = console.resources.queue(qid)
    if not figures.sources:
        raise HTTPException(400, f"{qid} is not a DLQ: nothing to redrive it to")
    moved = console.resources.redrive(qid)
    return RedirectResponse(f"/queues/{figures.sources[0]}?moved={moved}", status_code=303)


def purge_confirm(request: Request) -> Response:
    """The confirmation a purge needs."""
    console = of(request)
    qid = known(request.path_params["qid"], console.resources.queue_ids())
    return page(request, "purge.html", title=f"Purge {qid}?", queue=console.resources.queue(qid))


async def purge(request: Request) -> Response:
    """Delete every message of a queue, once confirmed."""
    console = of(request)
    qid = known(request.path_params["qid"], console.resources.queue_ids())
    if (await request.form()).get("confirm") != qid:
        raise HTTPException(400, "purging needs the confirmation form")
    console.resources.purge(qid)
    return RedirectResponse(f"/queues/{qid}?purged=1", status_code=303)


def tables(request: Request) -> Response:
    """Every table's item count and every bucket's object count."""
    console = of(request)
    rows = [(t, console.resources.item_count(t)) for t in console.resources.table_ids()]
    buckets = [(b, len(console.resources.objects(b))) for b in console.resources.bucket_ids()]
    # The local DynamoDB's own meter, in this process: the hottest keys and what it refused them.
    hot = throttling.METER.report()[:HOT_KEYS]
    limits = (1000 * throttling.METER.scale, 3000 * throttling.METER.scale)
    return page(request, "tables.html", title="Tables and buckets", rows=rows, buckets=buckets, hot=hot, limits=limits)


def table(request: Request) -> Response:
    """One table a page at a time, or one item by key."""
    console = of(request)
    tid = known(request.path_params["tid"], console.resources.table_ids())
    keys = console.resources.key_schema(tid)
    wanted = {k: request.query_params[k].strip() for k in keys if request.query_params.get(k, "").strip()}
    found: dict[str, Any] | None = None
    if wanted:
        if set(wanted) != set(keys):
            raise HTTPException(400, f"a lookup needs every key attribute: {', '.join(keys)}")
        found = console.resources.lookup(tid, wanted)
    try:
        items, following = console.resources.items(tid, request.query_params.get("cursor"))
    except ValueError as exc:
        raise HTTPException(400, "the cursor is not one this page gave") from exc
    return page(
        request,
        "table.html",
        title=tid,
        tid=tid,
        keys=keys,
        items=items,
        following=following,
        wanted=wanted,
        found=found,
    )


def bucket(request: Request) -> Response:
    """One bucket's objects."""
    console = of(request)
    bid = known(request.path_params["bid"], console.resources.bucket_ids())
    return page(request, "bucket.html", title=bid, bid=bid, objects=console.resources.objects(bid))


def schedules(request: Request) -> Response:
    """Every schedule's next fire time, with Fire now."""
    console = of(request)
    now = datetime.now(UTC)
    rows = [(i, s, next_fire(s.expression, now)) for i, s in enumerate(schedules_of(console))]
    return page(request, "schedules.html", title="Schedules", rows=rows, fired=request.query_params.get("fired"))


async def fire(request: Request) -> Response:
    """Fire a schedule now, with the payload it sends, then show the invocation."""
    console = of(request)
    listed = schedules_of(console)
    index = int(request.path_params["index"])
    if index >= len(listed):
        raise HTTPException(404, "no such schedule")

    def call() -> Any:
        with triggered_by(kind="console", source=f"fire now: {listed[index].description}"):
            return listed[index].fire()

    outcome = await run_in_threadpool(call)
    return RedirectResponse(f"/functions/{listed[index].fn.logical_id}/invocations/{outcome.request_id}", 303)
