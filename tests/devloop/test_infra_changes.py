"""A saved template or definition while `make run` is up: created, updated, or named for a restart."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from infra.local.infra_changes import InfraChanges
from infra.local.paths import TEMPLATE_PATH
from infra.local.provision import client
from infra.local.runtime import LocalRuntime
from infra.local.template import Stack
from tests.conftest import Logs


def edited(stack: Stack) -> Stack:
    """The stack's template with a new queue and a function's timeout changed, as a developer saves it."""
    template = copy.deepcopy(stack.template)
    template["Resources"]["AuditQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "audit-local"}}
    template["Resources"]["CleanupFunction"]["Properties"]["Timeout"] = 123
    return Stack(template, stack.endpoint, stack.region, dict(stack.overrides))


def test_a_new_queue_is_created_and_a_changed_function_is_named_for_a_restart(stack: Stack, logs: Logs) -> None:
    refreshed: list[Stack] = []

    def refresh(new: Stack) -> list[str]:
        refreshed.append(new)
        return []

    changes = InfraChanges(stack, refresh, logs)

    done = changes.apply(edited(stack))

    assert done["created"] == ["AuditQueue"]
    assert client(stack, "sqs").get_queue_url(QueueName="audit-local")["QueueUrl"]
    assert done["restart"] == ["CleanupFunction"]
    assert any("restart `make run`" in line and "CleanupFunction (changed)" in line for line in logs)
    assert refreshed == []  # the state machine did not change


def test_a_saved_definition_replaces_the_state_machine_s_definition(stack: Stack, tmp_path: Path, logs: Logs) -> None:
    definitions = tmp_path / "infra"
    shutil.copytree(TEMPLATE_PATH.parent / "statemachine", definitions / "statemachine")
    runtime = LocalRuntime(stack, template_dir=definitions, log=logs)
    runtime.refresh_state_machines(stack)  # as `make run` created it
    asl = definitions / "statemachine" / "order_workflow.asl.json"
    definition = json.loads(asl.read_text())
    definition["Comment"] = "edited while running"
    asl.write_text(json.dumps(definition))

    InfraChanges(stack, runtime.refresh_state_machines, logs)([str(asl)])

    sfn = client(stack, "stepfunctions")
    (machine,) = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == stack.name("OrderWorkflow")]
    described = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])
    assert json.loads(described["definition"])["Comment"] == "edited while running"
    assert any("updated the definition of OrderWorkflow" in line for line in logs)
