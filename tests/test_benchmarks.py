"""The benchmarks still run: a tiny run of each polling figure, so a refactor that renames what
a benchmark times (as the batched poll record once did) fails here, not in the next session."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _scratch_folders() -> set[str]:
    return {
        name for name in os.listdir(tempfile.gettempdir()) if name.startswith("kubelearn-bench-")
    }


def test_the_feed_benchmark_prints_its_figures_and_leaves_no_scratch_folder():
    before = _scratch_folders()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    done = subprocess.run(
        [sys.executable, "bench/feeds.py", "--feeds", "3", "--entries", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "db: sqlite" in done.stdout
    for figure in ("first poll:", "all 304:", "pipeline / bare feedparser:", "poll record"):
        assert figure in done.stdout, done.stdout
    # The breakdown's first poll really parses again (the stored document fingerprint is
    # forgotten with the entries), so the parsing steps are shown.
    first_poll_breakdown = done.stdout.split("where a first poll's time goes")[1].split("304")[0]
    assert "feedparser.parse" in first_poll_breakdown, done.stdout
    assert _scratch_folders() == before
