"""Record every AWS request the local cloud serves, attributed to the function that made it."""

from __future__ import annotations

import io
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from infra.iam.actions import IamRequest, iam_requests

_APP_ID = re.compile(r"(?:^|\s)app/(\S+)")
_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# moto's Step Functions interpreter calls other services back with these credentials:
# those calls are the state machine's, not the function whose environment it inherited.
MOTO_INTERNAL_ACCESS_KEY = "ak"
MOTO_PRINCIPAL = "moto:states"


@dataclass(frozen=True)
class Call:
    """One signed AWS request, as the server saw it."""

    principal: str
    service: str
    region: str
    operation: str
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def parse(environ: dict[str, Any]) -> Call | None:
    """The signed request in a WSGI environ, or None for unsigned ones (moto's own API)."""
    credential = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if credential is None:
        return None
    access_key, region, service = credential.groups()
    app = _APP_ID.search(environ.get("HTTP_USER_AGENT", ""))
    principal = MOTO_PRINCIPAL if access_key == MOTO_INTERNAL_ACCESS_KEY else (app.group(1) if app else "")
    if service == "s3":
        return Call(principal, service, region, "REST", _rest_params(environ))
    body = _read_body(environ)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        params = json.loads(body or b"{}")
        return Call(principal, service, region, target.rsplit(".", 1)[-1], params)
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    return Call(principal, service, region, form.pop("Action", environ.get("REQUEST_METHOD", "")), form)


def _read_body(environ: dict[str, Any]) -> bytes:
    # Read the body once and hand the server an identical stream.
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _rest_params(environ: dict[str, Any]) -> dict[str, Any]:
    return {
        "Method": environ.get("REQUEST_METHOD", ""),
        "Path": environ.get("PATH_INFO", ""),
        "Query": parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
        "CopySource": unquote(environ.get("HTTP_X_AMZ_COPY_SOURCE", "")),
    }


class CallRecorder:
    """A LocalCloud observer that counts (function, IAM action, resource) triples."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.requests: Counter[tuple[str, IamRequest]] = Counter()
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def observe(self, environ: dict[str, Any]) -> None:
        """Record one request; never raise into the server."""
        try:
            call = parse(environ)
            if call is None:
                return
            needed = iam_requests(call.service, call.operation, call.params, call.region, self.account)
        except Exception as error:  # noqa: BLE001 - a recording bug must not fail the request
            with self._lock:
                self.errors.append(f"{type(error).__name__}: {error}")
            return
        with self._lock:
            for request in needed:
                self.requests[(call.principal, request)] += 1

    def by_principal(self) -> dict[str, set[IamRequest]]:
        """The recorded IAM requests of each principal."""
        with self._lock:
            result: dict[str, set[IamRequest]] = {}
            for principal, request in self.requests:
                result.setdefault(principal, set()).add(request)
            return result
