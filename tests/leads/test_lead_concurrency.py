"""One person submitting twice at the same moment still makes one lead (PostgreSQL)."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from intake.models import QuestionnaireVersion
from leads.models import Lead, LeadEvent
from tests.support.submitting import submit
from tests.support.threads import in_threads


@pytest.mark.django_db(transaction=True)
def test_two_submissions_of_one_person_at_the_same_moment_make_one_lead(
    published: QuestionnaireVersion,
) -> None:
    assert connection.vendor == "postgresql"

    errors = in_threads(
        *[lambda: submit(published, email="Ayse.Yilmaz+x@gmail.com")] * 4
    )

    assert errors == []
    lead = Lead.objects.get()
    assert lead.events.filter(kind=LeadEvent.Kind.SUBMITTED).count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_submission_joining_a_lead_never_undoes_a_coordinators_change(
    published: QuestionnaireVersion,
) -> None:
    submit(published)
    lead = Lead.objects.get()
    changed = threading.Event()

    def coordinator_calls() -> None:
        # Holds the lead's row while the person submits again, then commits.
        with transaction.atomic():
            row = Lead.objects.select_for_update().get(pk=lead.pk)
            changed.set()
            time.sleep(0.5)
            row.status = Lead.Status.CONTACTED
            row.first_contacted_at = timezone.now()
            row.save(update_fields=["status", "first_contacted_at"])

    def person_submits_again() -> None:
        changed.wait(timeout=10)
        submit(published)

    errors = in_threads(coordinator_calls, person_submits_again)

    assert errors == []
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONTACTED
    assert lead.first_contacted_at is not None
    assert lead.events.filter(kind=LeadEvent.Kind.SUBMITTED).count() == 2
