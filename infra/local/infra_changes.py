"""A saved `infra/template.yaml` or state machine definition while `make run` is up: applied or named.

What the local cloud can take without a restart is created or updated in place (a new table, queue,
topic, bus, secret or bucket; a changed state machine definition). Anything else (functions, their
events, rules, changed properties of an existing resource) is named with the advice to restart:
a change is never silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.local.provision import PROVISIONED, provision
from infra.local.runtime.worker import LogSink
from infra.local.template import Stack, load_template

STATE_MACHINE = "AWS::Serverless::StateMachine"


class InfraChanges:
    """Compares the saved template with the running one and applies what it can."""

    def __init__(self, stack: Stack, refresh_state_machines: Callable[[Stack], list[str]], log: LogSink) -> None:
        self.stack = stack
        self.refresh_state_machines = refresh_state_machines
        self.log = log

    def __call__(self, paths: list[str]) -> None:
        """Apply a change of the template or a definition file."""
        try:
            new = Stack(load_template(), self.stack.endpoint, self.stack.region, dict(self.stack.overrides))
        except Exception as exc:  # noqa: BLE001 - a half-saved or invalid template: say so, keep running
            self.log(f"[infra] infra/template.yaml does not load ({type(exc).__name__}: {exc}); nothing applied")
            return
        self.apply(new, definitions_changed=any(not p.endswith("template.yaml") for p in paths))

    def apply(self, new: Stack, definitions_changed: bool = False) -> dict[str, list[str]]:
        """Create, update or name each difference; what was done, by kind."""
        old_resources, new_resources = self.stack.resources, new.resources
        added = sorted(set(new_resources) - set(old_resources))
        removed = sorted(set(old_resources) - set(new_resources))
        changed = sorted(k for k in set(old_resources) & set(new_resources) if old_resources[k] != new_resources[k])
        creatable = {k for k in added if new_resources[k]["Type"] in PROVISIONED}
        machines = [k for k in new_resources if new_resources[k]["Type"] == STATE_MACHINE]
        machine_changed = definitions_changed or any(k in machines for k in changed)
        restart = sorted({*(set(added) - creatable), *removed, *(k for k in changed if k not in machines)})
        done: dict[str, list[str]] = {"created": [], "updated": [], "restart": restart}
        if creatable:
            provision(new, only=creatable)
            done["created"] = sorted(creatable)
            self.log(f"[infra] created {', '.join(done['created'])}")
        if machine_changed:
            done["updated"] = self.refresh_state_machines(new)
            self.log(f"[infra] updated the definition of {', '.join(done['updated'])} (new executions use it)")
        if restart:
            named = ", ".join(_describe(new_resources, old_resources, k) for k in restart)
            self.log(f"[infra] restart `make run` to apply the change to {named}")
        if not (creatable or machine_changed or restart):
            self.log("[infra] template saved: no resource changed")
        self.stack = new
        return done


def _describe(new: dict[str, Any], old: dict[str, Any], logical_id: str) -> str:
    if logical_id not in old:
        return f"{logical_id} (new {new[logical_id]['Type']})"
    if logical_id not in new:
        return f"{logical_id} (removed)"
    return f"{logical_id} (changed)"
