"""Where the local tooling finds the project, its template and its saved state (imports nothing heavy)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "infra" / "template.yaml"
# Git-ignored: the data `make run` keeps across restarts (FRESH=1 deletes it).
STATE_DIR = PROJECT_ROOT / ".local-state"
# The local DynamoDB's units and throttles per table and key (infra.local.throttling), served by the local cloud.
KEYS_PATH = "/local-api/dynamodb/keys"
