"""Tasks that only the fault tests' workers run (`celery worker --include`)."""

import time

from celery import shared_task


@shared_task(acks_late=True)
def delivery_hold_task(seconds: float) -> None:
    """Keep a late-acknowledged delivery open for `seconds`, as a slow email would:
    the broker going away meanwhile is what used to end the worker."""
    time.sleep(seconds)
