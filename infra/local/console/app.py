"""The local console: server-rendered pages over the recorder, the runtime and the local cloud."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from infra.local.console import flows, lambda_api, pages
from infra.local.console.guard import LoopbackOnly
from infra.local.console.render import HERE, Console, page

__all__ = ["Console", "create_console"]


async def refused(request: Request, exc: Exception) -> Response:
    """A 4xx as a page that says why."""
    status = getattr(exc, "status_code", 500)
    return page(request, "error.html", status, title=f"{status}", message=getattr(exc, "detail", ""))


async def failed(request: Request, exc: Exception) -> Response:
    """An unexpected error as a page that names it; uvicorn logs the traceback to make run's output."""
    message = f"{type(exc).__name__}: {exc} (the traceback is in make run's output)"
    return page(request, "error.html", 500, title="The console failed", message=message)


ROUTES = [
    Route("/", flows.topology),
    Route("/functions", pages.functions),
    Route("/functions/{fid}", pages.function),
    Route("/functions/{fid}/invoke", pages.invoke, methods=["POST"]),
    Route(lambda_api.PATH, lambda_api.invoke, methods=["POST"]),
    Route("/functions/{fid}/invocations/{rid}", pages.invocation),
    Route("/queues", pages.queues),
    Route("/queues/{qid}", pages.queue),
    Route("/queues/{qid}/redrive", pages.redrive, methods=["POST"]),
    Route("/queues/{qid}/purge", pages.purge_confirm, methods=["GET"]),
    Route("/queues/{qid}/purge", pages.purge, methods=["POST"]),
    Route("/executions", flows.executions),
    Route("/executions/{arn:path}", flows.execution),
    Route("/events", flows.events),
    Route("/tables", pages.tables),
    Route("/tables/{tid}", pages.table),
    Route("/buckets/{bid}", pages.bucket),
    Route("/schedules", pages.schedules),
    Route("/schedules/{index:int}/fire", pages.fire, methods=["POST"]),
    Route("/journey", flows.order_journey),
    Route("/orders/{oid}", flows.order_journey),
    Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
]


def create_console(console: Console) -> Starlette:
    """The console's ASGI app, reading and acting on `console`."""
    app = Starlette(routes=ROUTES, exception_handlers={HTTPException: refused, Exception: failed})
    app.state.console = console
    app.add_middleware(LoopbackOnly)
    return app
