"""The local console: server-rendered pages over the recorder, the runtime and the local cloud."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from infra.local.api_process import SOURCE as API_FUNCTION
from infra.local.console.guard import LoopbackOnly
from infra.local.console.journey import journey, when
from infra.local.console.recorder import Recorder
from infra.local.console.resources import Resources
from infra.local.console.topology import Topology, build
from infra.local.console.workflow import CAUGHT, FAILED, StateRun, layout, runs
from infra.local.notifications import TOPIC as NOTIFICATION_TOPIC
from infra.local.runtime import LocalRuntime
from infra.local.runtime.cron import next_fire
from infra.local.runtime.sources.stepfunctions import STATE_MACHINE_TYPES, load_definition
from infra.local.runtime.trace import triggered_by
from infra.local.samples import sample_event

HERE = Path(__file__).parent
_DEFINITION_PROPERTIES = ("Definition", "DefinitionString", "DefinitionUri", "DefinitionSubstitutions")
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
SHOWN_INVOCATIONS = 50
SHOWN_LOG_LINES = 300


@dataclass
class Console:
    """What the pages read and act on."""

    runtime: LocalRuntime
    recorder: Recorder
    resources: Resources
    template_dir: Path

    @property
    def stack(self) -> Any:
        """The running stack (replaced when the template is saved)."""
        return self.runtime.stack


def pretty(text: str | None) -> str:
    """JSON text indented for reading; anything else as it is."""
    if text is None:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


def clock(value: Any) -> str:
    """A datetime or an epoch as a time of day."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%H:%M:%S.%f")[:-3]
    return when(float(value))


def create_console(console: Console) -> Starlette:
    """The console's ASGI app."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(pretty=pretty, clock=clock, quote=lambda s: quote(str(s), safe=""))

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        context.setdefault("title", name.removesuffix(".html").replace("_", " ").capitalize())
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    def topology(request: Request) -> Response:
        diagram = build(console.stack)
        return page(request, "topology.html", title="Topology", diagram=diagram, counts=_counts(console, diagram))

    def functions(request: Request) -> Response:
        rows = [(fid, console.recorder.figures(fid)) for fid in sorted(console.runtime.functions)]
        return page(request, "functions.html", title="Functions", rows=rows)

    def function(request: Request) -> Response:
        fid = _known(request.path_params["fid"], console.runtime.functions)
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
        fid = _known(request.path_params["fid"], console.runtime.functions)
        text = str((await request.form()).get("event", ""))
        try:
            event = json.loads(text)
        except ValueError as exc:
            return page(request, "error.html", 400, title="Not JSON", message=f"The event is not JSON: {exc}")
        from starlette.concurrency import run_in_threadpool

        def call() -> Any:
            with triggered_by(kind="console", source="the console's Invoke button"):
                return console.runtime.invoke(fid, event)

        outcome = await run_in_threadpool(call)
        return RedirectResponse(f"/functions/{fid}/invocations/{outcome.request_id}", status_code=303)

    def invocation(request: Request) -> Response:
        record = console.recorder.invocation(request.path_params["rid"])
        if record is None or record.function != request.path_params["fid"]:
            raise HTTPException(404, "no such invocation recorded (the history keeps the latest 1,000)")
        return page(request, "invocation.html", title=f"{record.function} {record.request_id}", record=record)

    def queues(request: Request) -> Response:
        rows = [console.resources.queue(q) for q in console.resources.queue_ids()]
        return page(request, "queues.html", title="Queues", rows=rows)

    def queue(request: Request) -> Response:
        qid = _known(request.path_params["qid"], console.resources.queue_ids())
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
        qid = _known(request.path_params["qid"], console.resources.queue_ids())
        figures = console.resources.queue(qid)
        if not figures.sources:
            raise HTTPException(400, f"{qid} is not a DLQ: nothing to redrive it to")
        moved = console.resources.redrive(qid)
        return RedirectResponse(f"/queues/{figures.sources[0]}?moved={moved}", status_code=303)

    def purge_confirm(request: Request) -> Response:
        qid = _known(request.path_params["qid"], console.resources.queue_ids())
        return page(request, "purge.html", title=f"Purge {qid}?", queue=console.resources.queue(qid))

    async def purge(request: Request) -> Response:
        qid = _known(request.path_params["qid"], console.resources.queue_ids())
        if (await request.form()).get("confirm") != qid:
            raise HTTPException(400, "purging needs the confirmation form")
        console.resources.purge(qid)
        return RedirectResponse(f"/queues/{qid}?purged=1", status_code=303)

    def executions(request: Request) -> Response:
        status = request.query_params.get("status") or None
        if status is not None and status not in STATUSES:
            raise HTTPException(400, f"status is one of {', '.join(STATUSES)}")
        listed = console.resources.executions(status)
        return page(request, "executions.html", title="Executions", rows=listed, status=status, statuses=STATUSES)

    def execution(request: Request) -> Response:
        arn = unquote(request.path_params["arn"])
        try:
            described, history = console.resources.execution(arn)
        except Exception as exc:
            if type(exc).__name__ in ("ExecutionDoesNotExist", "InvalidArn"):
                raise HTTPException(404, "no such execution") from exc
            raise
        definition = _definition(console, described["stateMachineArn"])
        graph = layout(definition)
        states = runs(graph.nodes, history, described["status"])
        # The first state whose attempts all failed is why the execution went the way it did.
        entered = sorted((r for r in states.values() if r.status in (CAUGHT, FAILED) and r.failures), key=_entered)
        why = (entered[0].name, *entered[0].failures[-1]) if entered else None
        return page(
            request,
            "execution.html",
            title=described["name"],
            execution=described,
            history=history,
            graph=graph,
            states=states,
            why=why,
            invocations=[r for r in console.recorder.all_invocations() if r.trigger.get("execution") == arn],
        )

    def events(request: Request) -> Response:
        return page(
            request,
            "events.html",
            title="Events and notifications",
            events=list(reversed(console.recorder.events())),
            notifications=list(reversed(console.recorder.notifications())),
            consumers=_rule_consumers(console),
        )

    def tables(request: Request) -> Response:
        rows = [(t, console.resources.item_count(t)) for t in console.resources.table_ids()]
        buckets = [(b, len(console.resources.objects(b))) for b in console.resources.bucket_ids()]
        return page(request, "tables.html", title="Tables and buckets", rows=rows, buckets=buckets)

    def table(request: Request) -> Response:
        tid = _known(request.path_params["tid"], console.resources.table_ids())
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
        bid = _known(request.path_params["bid"], console.resources.bucket_ids())
        return page(request, "bucket.html", title=bid, bid=bid, objects=console.resources.objects(bid))

    def schedules(request: Request) -> Response:
        now = datetime.now(UTC)
        rows = [(i, s, next_fire(s.expression, now)) for i, s in enumerate(_schedules(console))]
        return page(request, "schedules.html", title="Schedules", rows=rows, fired=request.query_params.get("fired"))

    async def fire(request: Request) -> Response:
        listed = _schedules(console)
        index = int(request.path_params["index"])
        if index >= len(listed):
            raise HTTPException(404, "no such schedule")
        from starlette.concurrency import run_in_threadpool

        def call() -> Any:
            with triggered_by(kind="console", source=f"fire now: {listed[index].description}"):
                return listed[index].fire()

        outcome = await run_in_threadpool(call)
        return RedirectResponse(f"/functions/{listed[index].fn.logical_id}/invocations/{outcome.request_id}", 303)

    def order_journey(request: Request) -> Response:
        needle = request.query_params.get("id", "").strip() or request.path_params.get("oid", "")
        found = journey(needle, console.recorder, console.resources, _rule_consumers(console)) if needle else None
        return page(request, "journey.html", title="Order journey", needle=needle, journey=found)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        detail = getattr(exc, "detail", "")
        return page(request, "error.html", status, title=f"{status}", message=detail)

    async def failed(request: Request, exc: Exception) -> Response:
        # The traceback goes to make run's output (uvicorn logs it); the page says what and where to look.
        message = f"{type(exc).__name__}: {exc} (the traceback is in make run's output)"
        return page(request, "error.html", 500, title="The console failed", message=message)

    routes = [
        Route("/", topology),
        Route("/functions", functions),
        Route("/functions/{fid}", function),
        Route("/functions/{fid}/invoke", invoke, methods=["POST"]),
        Route("/functions/{fid}/invocations/{rid}", invocation),
        Route("/queues", queues),
        Route("/queues/{qid}", queue),
        Route("/queues/{qid}/redrive", redrive, methods=["POST"]),
        Route("/queues/{qid}/purge", purge_confirm, methods=["GET"]),
        Route("/queues/{qid}/purge", purge, methods=["POST"]),
        Route("/executions", executions),
        Route("/executions/{arn:path}", execution),
        Route("/events", events),
        Route("/tables", tables),
        Route("/tables/{tid}", table),
        Route("/buckets/{bid}", bucket),
        Route("/schedules", schedules),
        Route("/schedules/{index:int}/fire", fire, methods=["POST"]),
        Route("/journey", order_journey),
        Route("/orders/{oid}", order_journey),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found, Exception: failed})
    app.add_middleware(LoopbackOnly)
    return app


def _entered(run: StateRun) -> float:
    return run.entered.timestamp() if run.entered is not None else float("inf")


def _known(value: str, known: Any) -> str:
    if value not in known:
        raise HTTPException(404, f"{value!r} is not in the template")
    return value


def _definition(console: Console, state_machine_arn: str) -> dict[str, Any]:
    """The definition file of the template's state machine with this ARN (as written, tasks not rewritten)."""
    stack = console.stack
    for logical_id, resource in stack.of_type(*STATE_MACHINE_TYPES).items():
        if stack.arn(logical_id) == state_machine_arn:
            # Only the definition's properties: Logging and the rest name resources that have no local ARN.
            wanted = {k: v for k, v in resource.get("Properties", {}).items() if k in _DEFINITION_PROPERTIES}
            return load_definition(console.runtime.services, stack.resolve(wanted), console.template_dir)
    described = console.resources.sfn.describe_state_machine(stateMachineArn=state_machine_arn)
    parsed: dict[str, Any] = json.loads(described["definition"])
    return parsed


def _schedules(console: Console) -> list[Any]:
    from infra.local.runtime.sources import ScheduleSource

    return [s for s in console.runtime.sources if isinstance(s, ScheduleSource)]


def _rule_consumers(console: Console) -> dict[str, str]:
    """Rule name -> the function it delivers to locally."""
    return {
        str(rule["Name"]): source.fn.logical_id
        for source in console.runtime.sources
        if isinstance(rule := getattr(source, "rule", None), dict) and hasattr(source, "fn")
    }


def _counts(console: Console, diagram: Topology) -> dict[str, str]:
    """The live figure under each node of the topology."""
    counts: dict[str, str] = {}
    started = time.monotonic()
    by_status: dict[str, int] = {}
    for execution in console.resources.executions():
        by_status[execution["status"]] = by_status.get(execution["status"], 0) + 1
    for node in diagram.nodes.values():
        counts[node.id] = _count(console, node, by_status)
    counts["_ms"] = f"{(time.monotonic() - started) * 1000:.0f}"
    return counts


def _count(console: Console, node: Any, by_status: dict[str, int]) -> str:
    recorder = console.recorder
    if node.kind == "function":
        calls = recorder.figures(node.id)
        if node.id == API_FUNCTION and not calls.invocations:  # under uvicorn: requests, not invocations
            return f"{len(recorder.requests())} requests"
        return f"{calls.invocations} invocations, {calls.errors} errors"
    if node.kind == "queue":
        queue = console.resources.queue(node.id)
        return f"depth {queue.depth}, in flight {queue.in_flight}"
    if node.kind == "statemachine":
        return ", ".join(f"{n} {s.lower()}" for s, n in sorted(by_status.items())) or "no executions"
    if node.kind == "table":
        return f"{console.resources.item_count(node.id)} items"
    if node.kind == "bucket":
        return f"{len(console.resources.objects(node.id))} objects"
    if node.kind == "bus":
        name = "default" if node.id == "default-bus" else console.stack.name(node.id)
        return f"{sum(1 for e in recorder.events() if e.bus == name)} events"
    if node.kind == "rule":
        return f"{sum(1 for e in recorder.events() if any(r.rule == node.physical for r in e.matched))} matched"
    if node.kind == "topic" and node.id == NOTIFICATION_TOPIC:
        return f"{len(recorder.notifications())} notifications"
    if node.kind == "schedule":
        now = datetime.now(UTC)
        fires = [next_fire(s.expression, now) for s in _schedules(console) if node.id.startswith(s.fn.logical_id)]
        return f"next {fires[0].astimezone().strftime('%d %b %H:%M')}" if fires else ""
    return ""
