"""`make run`'s launcher: serves, polls without a broker, stops quietly with exit 0 on Ctrl+C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the launcher exited early"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_ctrl_c_stops_server_and_poller_quietly_with_exit_0(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        env.pop(name, None)
    env |= {"DEBUG": "1", "KUBELEARN_VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "kubelearn.devserver", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground group is
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz/", launcher)
        time.sleep(1)  # let the poller start too
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl+C sends to the foreground group
        output, _ = launcher.communicate(timeout=30)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
    assert launcher.returncode == 0, output
    assert "Polling due feeds" in output
    assert "Traceback" not in output and "Segmentation" not in output, output
    assert output.rstrip().endswith("kubelearn stopped.")
