"""One person submitting twice at the same moment still makes one lead (PostgreSQL)."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from intake.models import QuestionnaireVersion
from leads.models import Lead, LeadEvent
from tests.leads.submitting import submit


def _at_once(count: int, work: Callable[[], object]) -> list[BaseException]:
    """Run `work` in `count` threads released together; return what they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            work()
        except BaseException as error:  # noqa: BLE001 (reported to the test)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_submissions_of_one_person_at_the_same_moment_make_one_lead(
    published: QuestionnaireVersion,
) -> None:
    assert connection.vendor == "postgresql"

    errors = _at_once(4, lambda: submit(published, email="Ayse.Yilmaz+x@gmail.com"))

    assert errors == []
    lead = Lead.objects.get()
    assert lead.events.filter(kind=LeadEvent.Kind.SUBMITTED).count() == 4
