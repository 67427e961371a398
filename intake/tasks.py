"""Celery tasks of intake: thin, by id, safe to run twice."""

from typing import Any

from celery import Task, shared_task


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def intake_draft_resume_email_task(self: Task[Any, Any], draft_id: int) -> None:
    """Send a draft's resume link by email; a sent or deleted draft sends nothing."""
    from intake.services.submissions import intake_draft_resume_email_send

    intake_draft_resume_email_send(draft_id=draft_id)


@shared_task
def intake_draft_purge_expired_task() -> None:
    """Delete expired drafts; beat runs it hourly, and a second run finds none."""
    from intake.services.submissions import intake_draft_purge_expired

    intake_draft_purge_expired()


@shared_task
def intake_draft_resume_email_send_due_task() -> None:
    """Send resume emails the broker missed; beat runs it every minute."""
    from intake.services.submissions import intake_draft_resume_email_send_due

    intake_draft_resume_email_send_due()
