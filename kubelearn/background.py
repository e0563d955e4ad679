"""Tasks that wait on other servers run beside the request, not in it, when there is no broker.

With no broker (`make run` on a bare machine) Celery runs a task where it is sent
(CELERY_TASK_ALWAYS_EAGER). Adding a feed then waited for the blog's server inside the
curator's request, ten seconds for a slow one, and "A worker is checking the address now" was
shown once the check was over (a curator's walk-through); a sign-up waited for the mail relay.
A task of the `OffRequestTask` class runs instead in this process's background thread, in the
order sent, and the request answers at once. With a broker nothing changes: the message goes to
a worker.

The thread is not a daemon: a management command that sent a task (adding a feed from the
shell) finishes it before the process exits. It ends when nothing is left to run and starts
again with the next task. A task that fails is logged, as a worker logs it; what it left
undone (a claimed feed, a link) is taken up again by the schedule, as after a worker's crash.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from typing import Any

from celery import Task
from celery.contrib.django.task import DjangoTask
from celery.result import AsyncResult
from celery.utils import uuid
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

_jobs: queue.Queue[tuple[Task, tuple[Any, ...], dict[str, Any], str]] = queue.Queue()
_lock = threading.Lock()
_runner: threading.Thread | None = None
_runner_pid = 0


class OffRequestTask(DjangoTask):
    """A Celery task that, without a broker, runs in the background thread (see above). A
    DjangoTask, as the app's other tasks are (`delay_on_commit`)."""

    def apply_async(
        self,
        args: tuple[Any, ...] | list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        task_id: str | None = None,
        **options: Any,
    ) -> AsyncResult:
        if not (self.app.conf.task_always_eager and settings.TASKS_OFF_REQUEST):
            return super().apply_async(args, kwargs, task_id=task_id, **options)
        task_id = task_id or uuid()
        _submit(self, tuple(args or ()), dict(kwargs or {}), task_id)
        return AsyncResult(task_id, app=self.app)


def _submit(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any], task_id: str) -> None:
    global _runner, _runner_pid
    with _lock:
        _jobs.put((task, args, kwargs, task_id))
        # A forked process (gunicorn's workers) has the queue's copy but not the thread.
        if _runner is None or not _runner.is_alive() or _runner_pid != os.getpid():
            _runner = threading.Thread(target=_run, name="kubelearn-background", daemon=False)
            _runner_pid = os.getpid()
            _runner.start()


def _run() -> None:
    global _runner
    while True:
        with _lock:
            try:
                task, args, kwargs, task_id = _jobs.get_nowait()
            except queue.Empty:
                _runner = None  # the next submit starts a new thread
                return
        try:
            # apply() runs the task here with its retries and error handling, as eager mode
            # would in the request; a failure is in the result, not raised.
            result = task.apply(args, kwargs, task_id=task_id)
            if result.failed():
                logger.error("Background task %s failed: %r", task.name, result.result)
        except Exception:
            logger.exception("Background task %s failed", task.name)
        finally:
            connections.close_all()  # this thread's own connections
            _jobs.task_done()


def wait_idle(timeout: float = 30.0) -> bool:
    """Wait until every task sent so far has run (tests, and a caller that must see a
    result). False if some are still running after `timeout` seconds."""
    runner = _runner
    if runner is not None:
        runner.join(timeout)
        return not runner.is_alive()
    return True
