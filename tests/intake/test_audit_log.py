"""The audit trails, staff reads of health data and the lead timeline of what
staff did: the database itself refuses to change or delete them; erasing a
submission leaves who read it, what and when."""

import pytest
from django.db import DatabaseError, connection, transaction

from clinics.models import Location, StaffMember
from intake.models import HealthDataAccess, QuestionnaireVersion
from intake.services.audit import health_data_access_record
from leads.models import LeadEvent
from leads.services.timeline import lead_note_add
from tests.support.factories import StaffMemberFactory
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def access(published: QuestionnaireVersion, location: Location) -> HealthDataAccess:
    physician = StaffMemberFactory.create(
        role=StaffMember.Role.PHYSICIAN, locations=[location]
    ).user
    return health_data_access_record(
        submission=submit(published), user=physician, what="answers"
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE intake_healthdataaccess SET what = 'photo'",
        "UPDATE intake_healthdataaccess SET accessed_at = now() - interval '1 year'",
        "DELETE FROM intake_healthdataaccess",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_audit_row(
    access: HealthDataAccess, statement: str
) -> None:
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    kept = HealthDataAccess.objects.get()
    assert (kept.what, kept.accessed_at) == ("answers", access.accessed_at)


def test_the_orm_cannot_delete_an_audit_row_either(access: HealthDataAccess) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        HealthDataAccess.objects.all().delete()

    assert HealthDataAccess.objects.count() == 1


def test_erasing_the_submission_keeps_who_read_it_what_and_when(
    access: HealthDataAccess,
) -> None:
    code = access.submission_code
    assert access.submission is not None

    access.submission.delete()

    kept = HealthDataAccess.objects.get()
    assert kept.submission is None
    assert (kept.submission_code, kept.user, kept.what) == (
        code,
        access.user,
        "answers",
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE leads_leadevent SET kind = 'call'",
        "UPDATE leads_leadevent SET created_at = now() - interval '1 day'",
        "UPDATE leads_leadevent SET text = 'rewritten'",
        "DELETE FROM leads_leadevent",
    ],
)
def test_the_database_refuses_to_rewrite_what_staff_did_to_a_lead(
    published: QuestionnaireVersion, statement: str
) -> None:
    lead = lead_of(submit(published))
    before = list(LeadEvent.objects.filter(lead=lead).values_list("kind", "created_at"))

    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    after = list(LeadEvent.objects.filter(lead=lead).values_list("kind", "created_at"))
    assert after == before


def test_a_merge_and_an_erasure_may_still_move_and_blank_events(
    published: QuestionnaireVersion, location: Location
) -> None:
    lead = lead_of(submit(published))
    other = lead_of(
        submit(published, email="other@example.com", phone="0532 000 00 09")
    )
    coordinator = StaffMemberFactory.create(locations=[location]).user
    note = lead_note_add(lead=other, text="Call after six", actor=coordinator)

    LeadEvent.objects.filter(pk=note.pk).update(lead=lead)
    LeadEvent.objects.filter(pk=note.pk).update(text="")

    note.refresh_from_db()
    assert (note.lead_id, note.text, note.kind) == (lead.pk, "", "note")
