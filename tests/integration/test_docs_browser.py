"""Swagger UI rendered by a real headless Chromium, with no internet access."""

from __future__ import annotations

import subprocess
import tempfile

import pytest

from tests.support.browser import CHROMIUM_ARGS, chromium

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = ["--headless", *CHROMIUM_ARGS, "--virtual-time-budget=15000", "--dump-dom"]


def test_swagger_ui_renders_the_users_operations(live_api: str) -> None:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"{live_api}/docs"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    dom = result.stdout
    assert 'class="swagger-ui' in dom, result.stderr[-2000:]
    assert "opblock-summary-path" in dom
    for path in ("/users", "/users/{user_id}", "/health"):
        assert f'data-path="{path}"' in dom, path
