"""Least privilege, proven: record each function's AWS calls and check them against its IAM policy."""
