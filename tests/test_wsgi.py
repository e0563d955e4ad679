"""kubelearn/wsgi.py: what a web worker loads before its first request."""

from __future__ import annotations

import subprocess
import sys

from tests.test_settings import ROOT, process_env


def test_a_web_worker_freezes_what_it_loaded_before_its_first_request(tmp_path):
    # As gunicorn imports it: a plain interpreter, not manage.py (which freezes on its own).
    result = subprocess.run(
        [sys.executable, "-c", "import gc, kubelearn.wsgi; print(gc.get_freeze_count())"],
        cwd=ROOT,
        env=process_env({"DEBUG": "1", "KUBELEARN_VAR_DIR": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # Django, the models, every view and the engine: full collections no longer walk them.
    assert int(result.stdout.strip().splitlines()[-1]) > 100_000
