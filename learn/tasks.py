"""Mail goes out from a worker: a request never waits on the mail relay."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.core.mail import send_mail

from kubelearn.background import OffRequestTask


@shared_task(
    base=OffRequestTask,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    max_retries=3,
    acks_late=True,
)
def mail_send(subject: str, body: str, from_email: str, to: list[str]) -> int:
    """Send one plain-text message (already rendered: tasks carry strings, not users)."""
    return send_mail(subject, body, from_email, to)
