"""Benchmarks: `make bench` (python -m bench); ratios against peers measured in the same run."""
