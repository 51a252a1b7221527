"""`make schemas`: write the JSON Schema of every event contract (app/domain/events.py) to docs/events/."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.domain.events import CONTRACTS, EVENT_SOURCE, Contract

DOCS = Path(__file__).resolve().parents[1] / "docs" / "events"


def schema_of(contract: type[Contract]) -> dict[str, object]:
    """The model's JSON Schema, with where the event is published."""
    schema = contract.model_json_schema(mode="serialization")
    channel = "SNS UserCreatedTopic" if contract.DETAIL_TYPE == "UserCreated" else "EventBridge OrderEventBus"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{EVENT_SOURCE}/{contract.DETAIL_TYPE}/v{contract.model_fields['version'].default}",
        "x-source": EVENT_SOURCE,
        "x-detail-type": contract.DETAIL_TYPE,
        "x-channel": channel,
        **schema,
    }


def rendered(contract: type[Contract]) -> str:
    """The schema file's exact text."""
    return json.dumps(schema_of(contract), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def path_of(contract: type[Contract]) -> Path:
    """docs/events/<DetailType>.v<version>.json."""
    return DOCS / f"{contract.DETAIL_TYPE}.v{contract.model_fields['version'].default}.json"


def main() -> int:
    """Write every schema; print what changed."""
    DOCS.mkdir(parents=True, exist_ok=True)
    for contract in CONTRACTS:
        path = path_of(contract)
        text = rendered(contract)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(DOCS.parents[1])}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
