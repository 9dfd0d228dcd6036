"""The schemathesis run of the tests (`tests/test_openapi_fuzz.py`) with many more examples per
operation: every operation of `/api/openapi.json`, data its schemas allow and data they forbid,
against the app on a fresh copy of the sample. Reports the cases sent, by operation, mode and
status, the server errors (the aim: none) and the failed checks.

Not a speed figure: a deeper search for defects than `make test` can afford (5 examples per
operation and mode there). Run alone with `python -m bench --only fuzz [--fuzz-examples N]`.
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Report

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EXAMPLES = 60


def run(examples: int = DEFAULT_EXAMPLES) -> Report:
    with tempfile.TemporaryDirectory() as folder:
        counts_file = Path(folder) / "counts.json"
        env = {
            **os.environ,
            "REGISTRY_FUZZ_EXAMPLES": str(examples),
            "REGISTRY_FUZZ_REPORT": str(counts_file),
        }
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/test_openapi_fuzz.py",
                "-q",
                "-n",
                "0",
                "-p",
                "no:cacheprovider",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        counts = json.loads(counts_file.read_text()) if counts_file.exists() else {}
    return _report(examples, counts, result.stdout, seconds)


def _report(
    examples: int, counts: dict[str, dict[str, int]], output: str, seconds: float
) -> Report:
    by_mode: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    operations = set()
    for label, statuses in counts.items():
        operation, mode = label.rsplit(" ", 1)
        operations.add(operation)
        by_mode[mode].update(statuses)
    cases = {mode: sum(statuses.values()) for mode, statuses in by_mode.items()}
    server_errors = sum(
        number
        for statuses in by_mode.values()
        for status, number in statuses.items()
        if status.startswith("5")
    )
    summary = re.search(r"(\d+ (?:passed|failed).*?) in ", output)
    failed = sorted(set(re.findall(r"^FAILED \S+\[(.+?)\]", output, re.MULTILINE)))
    lines = [
        f"examples per operation and mode: {examples} (exports {max(1, examples // 3)})",
        f"operations: {len(operations)}; tests: {summary.group(1) if summary else output[-300:]}",
    ]
    for mode in sorted(by_mode):
        histogram = ", ".join(f"{status}: {n}" for status, n in sorted(by_mode[mode].items()))
        lines.append(f"{mode} cases sent: {cases[mode]} ({histogram})")
    lines.append(f"server errors (5xx): {server_errors}; time {seconds:.0f} s")
    lines += [f"FAILED {label}" for label in failed]
    return Report(
        "api_fuzz",
        lines,
        {
            "examples": examples,
            "operations": len(operations),
            "cases": cases,
            "statuses": {mode: dict(statuses) for mode, statuses in by_mode.items()},
            "server_errors": server_errors,
            "failed": failed,
            "seconds": round(seconds, 1),
        },
    )
