"""The template parameters every test stack runs with: the local cloud's and `make run`'s."""

from __future__ import annotations

# The order queues hand each order over within a second: a batching window's waits are tested in
# runtime/test_sqs.py, and the topology's tests would otherwise wait out five seconds at every order.
TEST_PARAMETERS = {"OrderBatchingWindowSeconds": "1"}
