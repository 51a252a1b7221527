"""`make bench`: cold starts, warm overhead and AWS cost per order, each against a baseline in the same run."""
