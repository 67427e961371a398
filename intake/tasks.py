"""Celery tasks of intake: thin, by id, safe to run twice."""

from celery import shared_task

from core.outbox import TASK_RETRY_FOR


@shared_task(
    acks_late=True, autoretry_for=TASK_RETRY_FOR, retry_backoff=True, max_retries=5
)
def resume_email_send_task(resume_email_id: int) -> None:
    """Send one resume email by id; a sent, claimed or deleted row sends nothing.

    A mail server error is not raised: the row records it and is retried from there.
    """
    from intake.services.resume import resume_email_send

    resume_email_send(resume_email_id=resume_email_id)


@shared_task
def intake_draft_purge_expired_task() -> None:
    """Delete expired drafts; beat runs it hourly, and a second run finds none."""
    from intake.services.submissions import intake_draft_purge_expired

    intake_draft_purge_expired()


@shared_task
def resume_email_send_due_task() -> None:
    """Enqueue the resume emails that are due; beat runs it every minute."""
    from intake.services.resume import resume_email_send_due

    resume_email_send_due()
