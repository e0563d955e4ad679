"""manage.py: how a command starts."""

from __future__ import annotations

import json

from tests.test_settings import run_manage

REPORT_GC = (
    "import gc, json; print(json.dumps({'enabled': gc.isenabled(), "
    "'full_collections': gc.get_stats()[2]['collections'], 'frozen': gc.get_freeze_count()}))"
)


def test_a_command_starts_without_a_full_collection_then_runs_with_the_collector_on(tmp_path):
    result = run_manage(
        "shell", "-c", REPORT_GC, env={"DEBUG": "1", "KUBELEARN_VAR_DIR": str(tmp_path)}
    )
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout.strip().splitlines()[-1])
    # A long-running command (runserver, poll_feeds --watch) must still collect its cycles.
    assert state["enabled"] is True
    # (The collector's costly walk is the full one, over everything the start made.)
    assert state["full_collections"] == 0
    # The start's objects (Django, the models, the libraries) are out of the collector's way.
    assert state["frozen"] > 100_000
