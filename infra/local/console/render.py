"""What every console page shares: the console's parts, the templates and their filters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from infra.local.console.journey import when
from infra.local.console.recorder import Recorder
from infra.local.console.resources import Resources
from infra.local.runtime import LocalRuntime
from infra.local.runtime.sources import ScheduleSource
from infra.local.template import Stack

HERE = Path(__file__).parent


@dataclass
class Console:
    """What the pages read and act on."""

    runtime: LocalRuntime
    recorder: Recorder
    resources: Resources
    template_dir: Path

    @property
    def stack(self) -> Stack:
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


TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.filters.update(pretty=pretty, clock=clock, quote=lambda s: quote(str(s), safe=""))


def of(request: Request) -> Console:
    """The console the app was built for."""
    console: Console = request.app.state.console
    return console


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """Render one template."""
    context.setdefault("title", name.removesuffix(".html").replace("_", " ").capitalize())
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)


def known(value: str, known: Any) -> str:
    """`value` when the template has it; else a 404 page."""
    if value not in known:
        raise HTTPException(404, f"{value!r} is not in the template")
    return value


def schedules_of(console: Console) -> list[ScheduleSource]:
    """The runtime's schedule sources."""
    return [s for s in console.runtime.sources if isinstance(s, ScheduleSource)]
