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


def _environment(tmp_path: Path) -> dict[str, str]:
    """The launcher's environment on a migrated SQLite database of its own."""
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
    return env


def _as_from_a_terminal() -> None:
    """Ctrl+C's signal as a terminal's foreground job has it: a suite started in the
    background of a shell without job control (`make test &` in a script) ignores SIGINT,
    and its children inherit that, so the launcher never heard the Ctrl+C this test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _launch(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    """`make run`'s launcher on its own database, serving ``port``."""
    return subprocess.Popen(
        [sys.executable, "-m", "kubelearn.devserver", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=_environment(tmp_path),
        preexec_fn=_as_from_a_terminal,  # a signal reset before exec: nothing else runs there
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground group is
    )


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` now (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_to_the_launcher_alone_stops_every_child_and_frees_the_port(tmp_path):
    # `pkill -f kubelearn.devserver` reached the launcher only: it died, and runserver's
    # reloader child went on serving the port, with the poller and the link checker.
    port = _free_port()
    launcher = _launch(tmp_path, port)
    children: set[int] = set()
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz/", launcher)
        time.sleep(1)
        children = _descendants(launcher.pid)
        assert len(children) >= 4  # poller, link checker, runserver and its reloader child
        launcher.terminate()
        output, _ = launcher.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.2)
        assert not [pid for pid in children if _alive(pid)], output
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
        for pid in children:  # what a failing launcher left behind must not outlive the test
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert launcher.returncode == 0, output
    assert "Traceback" not in output, output
    with socket.socket() as sock:
        # Free again: nothing listens (SO_REUSEADDR only lets closed connections' TIME_WAIT be).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()


def test_ctrl_c_stops_server_and_poller_quietly_with_exit_0(tmp_path):
    port = _free_port()
    launcher = _launch(tmp_path, port)
    children: set[int] = set()
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz/", launcher)
        time.sleep(1)  # let the poller start too
        children = _descendants(launcher.pid)
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl+C sends to the foreground group
        output, _ = launcher.communicate(timeout=30)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
        # The poller and the link checker have sessions of their own: a launcher killed above
        # left them running on the machine after the suite (two gates' did).
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert launcher.returncode == 0, output
    assert "Polling due feeds" in output
    assert "Traceback" not in output and "Segmentation" not in output, output
    assert output.rstrip().endswith("kubelearn stopped.")
