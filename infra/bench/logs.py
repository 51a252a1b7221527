"""What an in-process handler writes to stdout, line by line, as Lambda would store it."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def captured() -> Iterator[Callable[[], list[str]]]:
    """Capture stdout and the app logger's stream (bound to the real stdout when it was built)."""
    from app.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    stream = handler.setStream(buffer)
    try:
        with contextlib.redirect_stdout(buffer):
            yield lambda: [line for line in buffer.getvalue().splitlines() if line]
    finally:
        handler.setStream(stream)
