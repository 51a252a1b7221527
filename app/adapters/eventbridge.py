"""EventBridge adapter: domain events on the service's bus."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from app.domain.errors import ServiceUnavailable

EVENT_SOURCE = "order-service"


class EventBridgePublisher:
    """Puts domain events on the service's bus with source `order-service`."""

    def __init__(self, client: Any, bus_name: str) -> None:
        self.client = client
        self.bus_name = bus_name

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        """Put one event; a rejected entry is transient (retried by the caller)."""
        entry = {
            "Source": EVENT_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(dict(detail)),
            "EventBusName": self.bus_name,
        }
        result = self.client.put_events(Entries=[entry])
        if result.get("FailedEntryCount", 0):
            raise ServiceUnavailable(f"EventBridge rejected {detail_type}: {result['Entries'][0].get('ErrorCode')}")
