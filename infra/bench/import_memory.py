"""Peak memory of the catalog import worker for files of growing size (run: `make bench`).

The local cloud runs in this process; each import runs the real handler in a fresh subprocess with
CatalogImportFunction's environment, which reports its peak RSS (VmHWM) and, with --tracemalloc,
the peak of Python allocations during the handler call.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from infra.local.cloud import LocalCloud  # noqa: E402
from infra.local.env import function_env  # noqa: E402
from infra.local.provision import client, provision  # noqa: E402
from infra.local.template import Stack, load_template  # noqa: E402

CHILD = """
import json, sys, time, tracemalloc
event = json.loads(sys.stdin.read())
import workers.catalog_import as w
w.services().catalog_imports  # clients and imports before measuring
trace = sys.argv[1] == "1"
if trace:
    tracemalloc.start()
began = time.monotonic()
result = w.handler(event, None)
seconds = time.monotonic() - began
peak = tracemalloc.get_traced_memory()[1] if trace else None
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
hwm_kib = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:"))
print(json.dumps({"result": result, "seconds": seconds, "tracemalloc_peak": peak, "peak_rss_kib": hwm_kib}))
"""


def csv_bytes(rows: int) -> bytes:
    """A valid file of `rows` products."""
    lines = ["productId,name,price,currency,stock", *(f"p{i},Product {i},{100 + i},USD,1" for i in range(rows))]
    return ("\n".join(lines) + "\n").encode()


def measure(cloud: LocalCloud, rows: int, *, trace: bool) -> dict[str, object]:
    """Import a file of `rows` rows in a fresh worker process; its peak memory and time."""
    cloud.reset()
    stack = Stack(load_template(), cloud.endpoint)
    provision(stack)
    import_id = f"{rows:032x}"
    key, bucket, body = f"imports/{import_id}.csv", stack.name("ImportsBucket"), csv_bytes(rows)
    now = "2026-01-01T00:00:00+00:00"
    item = {"importId": import_id, "status": "PENDING", "objectKey": key, "createdAt": now, "updatedAt": now}
    dynamodb = client(stack, "dynamodb")
    dynamodb.put_item(
        TableName=stack.name("ImportsTable"),
        Item={
            **{k: {"S": v} for k, v in item.items()},
            "errors": {"L": []},
            **{k: {"N": "0"} for k in ("offset", "line", "rowsRead", "rowsImported", "rowsRejected")},
        },
    )
    etag = client(stack, "s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")["ETag"]
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": len(body), "eTag": etag.strip('"')}},
            }
        ]
    }
    env = {**os.environ, **function_env(stack, "CatalogImportFunction"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "1" if trace else "0"],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return {"rows": rows, "bytes": len(body), **report}


def main() -> None:
    """Measure each size and print one JSON line per run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    cloud = LocalCloud().start()
    try:
        for rows in args.rows:
            began = time.monotonic()
            print(json.dumps({**measure(cloud, rows, trace=args.tracemalloc), "wall": time.monotonic() - began}))
    finally:
        cloud.stop()


if __name__ == "__main__":
    main()
