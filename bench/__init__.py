"""Benchmarks: `make bench` (python -m bench). Prints ratios against peers measured in the same run."""
