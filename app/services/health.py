"""Health of the backing services."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.ports.common import HealthProbe


@dataclass(frozen=True)
class HealthReport:
    """Each service's status and whether the service as a whole can serve."""

    healthy: bool
    checks: dict[str, str]


def check_health(critical: list[HealthProbe], optional: list[HealthProbe]) -> HealthReport:
    """Run every probe; unhealthy when a critical one fails."""
    checks: dict[str, str] = {}
    healthy = True
    for probe in [*critical, *optional]:
        try:
            probe.check()
            checks[probe.name] = "ok"
        except Exception:  # noqa: BLE001 - any failure of a probe means "down", whatever its type
            checks[probe.name] = "unavailable"
            healthy = healthy and probe not in critical
    return HealthReport(healthy=healthy, checks=checks)
