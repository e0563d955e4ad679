"""`make run`'s server: runserver plus, without a broker, a background feed poller.

Run as `python -m kubelearn.devserver HOST:PORT`. Ctrl+C stops both quietly and exits 0; so
does SIGTERM (`kill`) or SIGHUP sent to the launcher alone: every child stops with it.

Why a launcher instead of a shell line in the Makefile: Ctrl+C sends SIGINT to the terminal's
foreground process group, and `make` is in it. Make answers SIGINT by sending SIGTERM to its
recipe and dying with "*** Interrupt" and status 130, and the SIGTERM reached runserver's
reloader child mid-import ("Segmentation fault", status 143). So, like a job-control shell,
this launcher puts itself and its children in their own process group and makes that group the
terminal's foreground: Ctrl+C reaches only us, we stop the children, hand the terminal back to
make and exit 0, which make reports as success.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

POLL_EVERY_SECONDS = 60


@contextlib.contextmanager
def terminal_foreground() -> Iterator[None]:
    """Own the terminal's foreground process group for the duration, when there is a terminal."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:  # no controlling terminal (CI, nohup, a pipe): nothing to take over
        yield
        return
    # Changing the foreground group from a background group raises SIGTTOU; ignore it, as shells do.
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    previous = os.tcgetpgrp(tty)
    os.setpgid(0, 0)
    os.tcsetpgrp(tty, os.getpgrp())
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.tcsetpgrp(tty, previous)
        os.close(tty)


def main(address: str) -> int:
    manage = [sys.executable, "manage.py"]
    children: list[subprocess.Popen[bytes]] = []
    with terminal_foreground():
        if not os.environ.get("REDIS_URL"):
            # No broker, so no beat: poll due feeds from here. Its own session keeps Ctrl+C
            # away from it; we stop it with SIGTERM below.
            children.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                    [*manage, "poll_feeds", "--watch", str(POLL_EVERY_SECONDS)],
                    start_new_session=True,
                )
            )
            # ... and check due links (a share of the catalog a minute, host by host).
            children.append(
                subprocess.Popen(  # noqa: S603 - as above
                    [*manage, "check_links", "--watch", str(POLL_EVERY_SECONDS)],
                    start_new_session=True,
                )
            )
        server = subprocess.Popen([*manage, "runserver", address])  # noqa: S603 - as above
        children.append(server)

        def stop(signum: int, frame: object) -> None:
            # `kill`, `pkill` or a closed terminal reach only us. Left to the default action,
            # we would die at once and leave runserver's reloader child holding the port: give
            # runserver the Ctrl+C it knows how to stop on (its reloader takes the child down
            # with it), then stop like Ctrl+C.
            if server.poll() is None:
                server.send_signal(signal.SIGINT)
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, stop)
        interrupted = False
        try:
            server.wait()
        except KeyboardInterrupt:
            interrupted = True
            # runserver got the same SIGINT and stops by itself; a SIGTERM on top of it would
            # interrupt its reloader's clean exit with a traceback.
            with contextlib.suppress(subprocess.TimeoutExpired, KeyboardInterrupt):
                server.wait(timeout=5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=10)
    if not interrupted and server.returncode:
        return server.returncode  # the server failed on its own: say so to make
    print("\nkubelearn stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8000"))
