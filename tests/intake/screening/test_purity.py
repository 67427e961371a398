"""The screening engine runs without Django: no settings, no ORM, no app registry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

SCRIPT = """
import sys
from datetime import date
from intake.screening import evaluate, rule_set_load, shipped_rule_set_data
result = evaluate(
    {"implanted_device": True},
    rule_set_load(shipped_rule_set_data()),
    today=date(2026, 1, 1),
    birth_date=date(1980, 1, 1),
)
result.to_dict()
loaded = sorted(name for name in sys.modules if name.split(".")[0] == "django")
print(",".join(loaded))
"""


def test_screening_package_imports_and_evaluates_without_django() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert completed.stdout.strip() == ""
