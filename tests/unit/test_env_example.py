"""`.env.example` documents every setting, and nothing that is not one: configuration is documented once."""

from __future__ import annotations

import re
from pathlib import Path

from app.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
# Read by the libraries themselves, not through Settings; documented beside the settings.
READ_ELSEWHERE = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "PORT",
    "MOTO_PORT",
}


def documented() -> set[str]:
    """Every KEY of a `KEY=value` line, commented out or not."""
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(), re.M))


def settings_names() -> set[str]:
    return set(Settings.variables().values())


def test_every_setting_is_documented_with_a_comment() -> None:
    missing = settings_names() - documented()
    assert not missing, f"add to .env.example: {sorted(missing)}"
    lines = EXAMPLE.read_text().splitlines()
    for i, line in enumerate(lines):
        key = re.match(r"^#?\s?([A-Z][A-Z0-9_]+)=", line)
        if key and key.group(1) in settings_names():
            above = i - 1
            while above >= 0 and re.match(r"^#?\s?[A-Z][A-Z0-9_]+=", lines[above]):
                above -= 1  # a group of settings shares the comment above it
            assert lines[max(above, 0)].startswith("#"), f"{key.group(1)} needs a comment above it"


def test_nothing_documented_is_unknown() -> None:
    unknown = documented() - settings_names() - READ_ELSEWHERE
    assert not unknown, f"not a setting: {sorted(unknown)}"


def test_the_documented_values_are_valid_settings() -> None:
    values = dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", EXAMPLE.read_text(), re.M))
    known = set(Settings.variables().values())
    parsed = Settings(_env_file=None, _environ={}, **{k: v for k, v in values.items() if k in known})
    assert parsed.users_table == values["USERS_TABLE"]
