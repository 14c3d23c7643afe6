"""The soak benchmark's 30-second version (bench/soak.py --smoke), run in CI as a smoke test: open live
history pages, signed media callbacks and real local calls at once, on the real app. It checks what must
hold at any speed (no timing here): no errors, every page ends up showing what the database holds (no live
update lost), and every call made has its recording ready."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_soak_smoke_run_loses_nothing():
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--smoke"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    report = json.loads(run.stdout[run.stdout.index("{") :])
    assert report["errors"] == 0, report["first_errors"]
    assert report["pages_behind_after_settle"] == 0, report
    assert report["calls_made"] > 0 and report["recordings_ready"] == report["calls_made"], report
    assert report["webhooks_sent"] > 0
    assert run.returncode == 0, run.stderr[-2000:]
