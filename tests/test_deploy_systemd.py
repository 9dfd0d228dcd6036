"""deploy/systemd/*: every unit passes `systemd-analyze verify` (unknown or misspelt keys, bad
values, a timer without its service, a command that is not there), rendered with this checkout's
`asset-registry` in place of /opt/asset-registry's; the hardening the app unit promises is there.
"""

from __future__ import annotations

import configparser
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/asset-registry/.venv/bin/asset-registry"
ENVIRONMENT_FILE = "/etc/asset-registry/asset-registry.env"


def _unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


def test_every_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here (Debian: the systemd package)")
    checkout_cli = ROOT / ".venv" / "bin" / "asset-registry"
    assert checkout_cli.exists()
    environment = tmp_path / "asset-registry.env"
    environment.write_text("SECRET_KEY=verify-only\n")
    rendered = []
    for unit in sorted(UNITS.iterdir()):
        if unit.suffix not in {".service", ".timer"}:
            continue
        text = unit.read_text().replace(INSTALLED, str(checkout_cli))
        text = text.replace(ENVIRONMENT_FILE, str(environment))
        (tmp_path / unit.name).write_text(text)
        rendered.append(str(tmp_path / unit.name))
    assert any(name.endswith("asset-registry.service") for name in rendered)
    checked = subprocess.run(
        [analyze, "verify", "--man=no", *rendered], capture_output=True, text=True, cwd=tmp_path
    )
    # verify only warns (exit 0) about an unknown key or a bad value: any output is a finding
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr


def test_the_app_runs_hardened_as_its_own_user_from_an_environment_file() -> None:
    service = _unit("asset-registry.service")["Service"]
    assert service["User"] == service["Group"] == "asset-registry"
    assert service["EnvironmentFile"] == ENVIRONMENT_FILE
    assert service["ExecStart"].startswith(f"{INSTALLED} serve ")
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, key
    assert service["StateDirectory"] == "asset-registry"


def test_the_kpi_snapshot_runs_on_the_last_day_of_each_month() -> None:
    timer = _unit("asset-registry-kpi-snapshot.timer")["Timer"]
    assert timer["OnCalendar"].startswith("*-*~01 ")
    assert timer["Persistent"] == "true"
    service = _unit("asset-registry-kpi-snapshot.service")["Service"]
    assert service["ExecStart"] == f"{INSTALLED} kpi snapshot"
    assert service["Type"] == "oneshot"
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:
        elapses = subprocess.run(
            [analyze, "calendar", "--iterations=3", timer["OnCalendar"]],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        days = [
            line.split()[-3] for line in elapses.splitlines() if "elapse" in line or "Iter" in line
        ]
        assert len(days) == 3
        for day in days:  # each the last of its month: the next day is the 1st
            assert (dt.date.fromisoformat(day) + dt.timedelta(days=1)).day == 1
