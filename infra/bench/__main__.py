"""`python -m infra.bench`: run every benchmark, print the table and write docs/performance.md."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from infra.bench import bill, capacity, cold, logs, report, warm
from infra.bench.cost import Executions, Invocations, gateway_line, price_per_million
from infra.bench.stats import Comparison, median
from infra.bench.world import PRODUCT, World, http_event, sqs_event

OUT = Path("docs/performance.md")


def cold_starts(world: World, runs: int) -> tuple[list[Comparison], dict[str, object]]:
    """API, ProcessOrder and ValidateOrder cold starts against their baselines."""
    extra: dict[str, object] = {}
    base_dir = str(cold.baselines_dir())
    get_user = http_event("GET", "/users/ada", world.token())
    api = cold.Variant("app.lambda_handler", "handler", world.env("ApiFunction"), lambda _: get_user)
    api_base = cold.Variant(
        "bench_api_baseline", "handler", {**world.env("ApiFunction"), "PYTHONPATH": base_dir}, lambda _: get_user
    )
    ours, base = cold.alternate(api, api_base, runs)
    assert '"statusCode": 200' in ours[0].reply.replace("'", '"'), ours[0].reply
    extra["api_rss"] = (median([s.rss_mb for s in ours]), median([s.rss_mb for s in base]))
    extra["api_imports"] = cold.import_costs(api)
    results = [Comparison("API cold start (GET /users/{id})", "ms", [s.ms for s in ours], [s.ms for s in base], 1.10)]
    results.append(_floor("API baseline + Powertools Logger", api_base, "bench_api_floor", runs))
    results.append(_as_deployed(world, [s.ms for s in ours], base_dir, get_user, runs))
    results.append(_tracing_cost(api, runs))

    orders = world.place_orders(runs + 2)
    queue = cold.Variant(
        "workers.process_order",
        "handler",
        world.env("ProcessOrderFunction"),
        lambda i: sqs_event(world.stack, orders[i]),
    )
    results.append(_worker(world, "ProcessOrder cold start (one SQS record)", queue, orders, base_dir, runs)[0])
    validate = cold.Variant(
        "workers.order_workflow", "validate_order", world.env("ValidateOrderFunction"), lambda i: {"orderId": orders[0]}
    )
    validated, replayed = _worker(world, "ValidateOrder cold start (workflow task)", validate, orders, base_dir, runs)
    floor = "Worker baseline (ValidateOrder's) + Powertools Logger"
    results += [validated, _floor(floor, replayed, "bench_worker_floor", runs)]
    extra["worker_imports"] = cold.import_costs(validate)
    return results, extra


def _as_deployed(world: World, api_ms: list[float], base_dir: str, get_user: dict[str, Any], runs: int) -> Comparison:
    """The first authenticated request as deployed: the authorizer's cold start, then the API's."""
    from infra.local.payloads import http_api_request_authorizer

    authorize = http_api_request_authorizer({"authorization": f"Bearer {world.token()}"})
    authorizer = cold.Variant("workers.authorizer", "handler", world.env("AuthorizerFunction"), lambda _: authorize)
    api_base = cold.Variant(
        "bench_api_baseline", "handler", {**world.env("ApiFunction"), "PYTHONPATH": base_dir}, lambda _: get_user
    )
    edge, base = cold.alternate(authorizer, api_base, runs)
    assert "'isAuthorized': True" in edge[0].reply, edge[0].reply
    note = f"authorizer cold start {median([s.ms for s in edge]):.0f} ms + API cold start {median(api_ms):.0f} ms"
    both = [a.ms + b for a, b in zip(edge, api_ms, strict=True)]
    return Comparison("First authenticated request as deployed", "ms", both, [s.ms for s in base], None, [note])


def _floor(name: str, baseline: cold.Variant, module: str, runs: int) -> Comparison:
    """The baseline with the libraries the design names imported and used, against the bare baseline."""
    floor = cold.Variant(module, baseline.function, baseline.env, baseline.event)
    named, bare = cold.alternate(floor, baseline, max(5, runs // 2))  # a note, not a goal: half the runs
    return Comparison(name, "ms", [s.ms for s in named], [s.ms for s in bare], None, ["the floor that library sets"])


def _tracing_cost(api: cold.Variant, runs: int) -> Comparison:
    """The API's cold start in an invocation Lambda traces (TracingMode=Active: a sampled trace id) vs one it does not.

    Nothing of ours traces (docs/decisions/0013): the difference is botocore adding the trace header.
    """
    import tempfile

    lambda_env = {
        "AWS_LAMBDA_FUNCTION_NAME": "order-service-api-dev",
        "LAMBDA_TASK_ROOT": tempfile.mkdtemp(prefix="bench-task-root-"),
    }
    trace = {"_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
    on = cold.Variant(api.module, api.function, {**api.env, **lambda_env, **trace}, api.event)
    off = cold.Variant(api.module, api.function, {**api.env, **lambda_env}, api.event)
    traced, untraced = cold.alternate(on, off, max(5, runs // 2))  # a note, not a goal: half the runs
    added = median([s.ms for s in traced]) - median([s.ms for s in untraced])
    note = f"{added:+.0f} ms (median): no tracing SDK loads (decision 0013)"
    return Comparison(
        "API cold start, tracing on vs off", "ms", [s.ms for s in traced], [s.ms for s in untraced], None, [note]
    )


def _worker(
    world: World, name: str, ours: cold.Variant, orders: list[str], base_dir: str, runs: int
) -> tuple[Comparison, cold.Variant]:
    """The worker's cold start against a bare handler replaying its AWS requests; and that baseline."""
    # Record the real handler's AWS requests on its last spare order, then replay them from a bare handler.
    world.calls.clear()
    cold.run_once(ours, runs + 1)
    fn = {"workers.process_order": "ProcessOrderFunction"}.get(ours.module, "ValidateOrderFunction")
    replay = world.replay_of(fn)
    env = {**ours.env, "PYTHONPATH": base_dir, "BENCH_REPLAY": replay}
    baseline = cold.Variant("bench_worker_baseline", "handler", env, ours.event)
    a, b = cold.alternate(ours, baseline, runs)
    notes = [
        f"{len(json.loads(replay))} AWS requests each",
        f"peak RSS {median([s.rss_mb for s in a]):.0f} MB vs {median([s.rss_mb for s in b]):.0f} MB",
    ]
    return Comparison(name, "ms", [s.ms for s in a], [s.ms for s in b], 1.15, notes), baseline


def warm_overhead(world: World, runs: int, total: int, extra: dict[str, object]) -> Comparison:
    """API handler p50 (edge caller, one EMF record; in-memory data) against a minimal FastAPI + Mangum route."""
    event = http_event("GET", "/users/ada", world.token())
    env = {**world.env("ApiFunction"), "JWT_SECRET_ID": "", "JWT_SECRET": world.secret}
    ours, base = warm.p50_per_process(event, world.secret, env, runs, total)
    extra["warm_profile"] = warm.profile_top(event, world.secret, env)
    return Comparison(f"Warm p50 per invocation ({total} each)", "µs", ours, base, 1.5)


def eager_first_invocation(world: World, runs: int) -> Comparison:
    """The first request after a SnapStart-style init against the same process's warm requests (local cloud)."""
    from infra.bench.snapstart import AUTHORIZER, first_after_eager_init
    from infra.local.payloads import http_api_request_authorizer

    event = http_event("GET", "/users/ada", world.token())
    samples = first_after_eager_init(event, world.env("ApiFunction"), runs)
    note = f"eager init {median([s['init_ms'] for s in samples]):.0f} ms, paid before any request"
    # As deployed, both functions of a first request are restored from snapshots: the authorizer's first
    # verification is the other part of that request (its warm calls hit the verified-token cache: no ratio).
    authorize = http_api_request_authorizer({"authorization": f"Bearer {world.token()}"})
    edge = first_after_eager_init(authorize, world.env("AuthorizerFunction"), max(5, runs // 2), AUTHORIZER)
    edge_us = median([s["first_us"] for s in edge])
    edge_note = f"the authorizer's first invocation after its eager init: {edge_us:.0f} µs"
    first, warm = [s["first_us"] for s in samples], [s["warm_us"] for s in samples]
    title = "First invocation after an eager init vs warm (GET /users/{id})"
    return Comparison(title, "µs", first, warm, 1.3, [note, edge_note])


Costs = list[bill.Line]


def cost_per_order(world: World, orders: int) -> tuple[Costs, Costs, dict[str, int], str, bill.Line]:
    """Place `orders` orders through the API handler, run the pipeline on the local runtime, count and price."""
    from infra.local.runtime import LocalRuntime

    world.fresh()
    import app.lambda_handler as api

    sink = Invocations(functions=frozenset(world.calls.functions))
    runtime = LocalRuntime(world.stack, log=sink, poll_seconds=1, retry_delay_seconds=1).start()
    try:
        # One order first, uncounted: each worker's init and first invocation are paid once per environment,
        # not per order (a million orders share a few hundred environments).
        _place(world, api, sink)
        _wait_succeeded(world, 1)
        sink.clear()
        world.calls.clear()
        for placed in range(1, orders + 1):
            _place(world, api, sink)
            # One order at a time: in AWS each function runs in its own environment against a DynamoDB that
            # is not serialised, so durations measured under local contention would overstate GB-seconds.
            executions = _wait_succeeded(world, placed, skip=1)
    finally:
        runtime.stop()
    counts: dict[str, int] = {}
    for (_, service, operation), n in world.calls.calls.items():
        counts[f"{service}:{operation}"] = counts.get(f"{service}:{operation}", 0) + n
    arch = str(world.stack.parameter("Architecture"))
    derived = _derived_lines(world, sum(sink.log_bytes.values()) / orders)
    standard = _largest_first(
        price_per_million(world.calls, sink.reports, executions, orders, "STANDARD", arch, world.stack) + derived
    )
    express = _largest_first(
        price_per_million(world.calls, sink.reports, executions, orders, "EXPRESS", arch, world.stack) + derived
    )
    loads = capacity.per_key(world.calls.trace, world.stack, orders)
    model = capacity.render(loads, PRODUCT, sum(line.usd for line in express))
    return standard, express, counts, model, gateway_line(world.calls, orders)


def _derived_lines(world: World, log_bytes: float) -> Costs:
    """The lines no recorded request prices by itself (infra/bench/bill.py)."""
    from app.settings import get_settings

    stack = world.stack
    return [
        bill.logs(log_bytes, str(stack.parameter("SystemLogLevel"))),
        bill.xray(stack),
        *bill.authorizer(stack, bill.BILLED_MS_MIN),
        bill.kms(world.calls.trace, stack),
        bill.secrets(stack, get_settings().jwt_secret_max_age),
    ]


def _largest_first(lines: Costs) -> Costs:
    return sorted(lines, key=lambda line: line.usd, reverse=True)


def _place(world: World, api: Any, sink: Invocations) -> None:
    """One order through the API handler, its duration reported as Lambda would."""
    body = {"items": [{"productId": PRODUCT, "quantity": 1}]}
    with logs.captured() as lines:
        started = time.perf_counter()
        reply = api.handler(http_event("POST", "/orders", world.token(), body), None)
        elapsed = time.perf_counter() - started
    assert reply["statusCode"] == 202, reply
    for line in lines():
        sink(f"[ApiFunction] {line}")
    sink.reports.append(("ApiFunction", elapsed * 1000, 512))


def _wait_succeeded(world: World, orders: int, skip: int = 0, timeout: float = 180) -> Executions:
    from infra.local.provision import client

    sfn = client(world.stack, "stepfunctions")
    arn = world.stack.ref("OrderWorkflow")
    deadline = time.monotonic() + timeout
    while True:
        listed = sorted(sfn.list_executions(stateMachineArn=arn)["executions"], key=lambda e: e["startDate"])
        done = [e for e in listed[skip:] if e["status"] != "RUNNING"]
        if len(done) >= orders:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(done)} of {orders} workflows finished")
        time.sleep(0.5)
    assert all(e["status"] == "SUCCEEDED" for e in done), done
    time.sleep(0.5)  # the last task's REPORT line
    entered = 0
    for execution in done:
        history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        entered += sum(1 for e in history if e["type"].endswith("StateEntered"))
    durations = [(e["stopDate"] - e["startDate"]).total_seconds() * 1000 for e in done]
    return Executions(len(done), entered, durations)


def main(argv: list[str]) -> int:
    """Run the benchmarks."""
    parser = argparse.ArgumentParser(prog="python -m infra.bench")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("RUNS", "15")))
    parser.add_argument("--warm-total", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    world = World()
    try:
        started = time.monotonic()
        # Costs first: the cold starts replay real requests (a StartExecution among them), and an execution
        # they leave running in the local cloud would call the cost run's task functions.
        costs, express, counts, model, gateway = cost_per_order(world, args.orders)
        comparisons, extra = cold_starts(world, args.runs)
        comparisons.append(warm_overhead(world, args.runs, args.warm_total, extra))
        comparisons.append(eager_first_invocation(world, args.runs))
        seconds = time.monotonic() - started
        text = report.render(
            comparisons, extra, (costs, express), counts, args.orders, args.runs, seconds, model, gateway
        )
    finally:
        world.stop()
    print(report.table(comparisons))
    print(report.cost_table(costs))
    print(report.cost_table(express))
    print(model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
