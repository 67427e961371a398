"""A person's rights over their data, handled by the clinic admin: a copy of all
of it, readable and as JSON, and erasure that leaves nothing of them in any table
while what the clinic counts stays."""

import datetime as dt
import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.utils import timezone

from clinics.models import ClinicBranding, Location, StaffMember
from core.models import DeliveryStatus
from followups.models import FollowUpMessage
from followups.unsubscribe import unsubscribe_token
from intake.models import (
    HealthDataAccess,
    QuestionnaireVersion,
    ScreeningResult,
    Submission,
)
from leads.models import (
    Lead,
    LeadEvent,
    LeadTreatment,
    PersonalDataErasure,
    PrivacyRequest,
)
from leads.services.privacy import lead_personal_data_erase, lead_retention_erase_due
from leads.services.review import lead_review_decide
from leads.services.timeline import lead_note_add
from tests.support.staff_api import staff
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db

NAME, EMAIL, PHONE = "Nilüfer Karaağaçlı", "nilufer.k@example.org", "+905321112233"
NOTE, DECISION = "Wants evenings after the school run", "Aspirin with heavy bruising"


@pytest.fixture
def lead(published: QuestionnaireVersion, location: Location) -> Lead:
    lead = lead_of(
        submit(
            published,
            full_name=NAME,
            email=EMAIL,
            phone="0532 111 22 33",
            birth_date="1984-07-19",
            blood_thinners=["aspirin"],
        )
    )
    lead_note_add(lead=lead, text=NOTE, actor=staff(locations=[location]))
    lead_review_decide(
        lead=lead,
        treatment="mesotherapy",
        decision="declined",
        note=DECISION,
        physician=staff(StaffMember.Role.PHYSICIAN, locations=[location]),
    )
    return lead


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(staff(StaffMember.Role.CLINIC_ADMIN, username="privacy"))
    return client


def _everything_stored() -> str:
    """Every row of every table, as text."""
    with connection.cursor() as cursor:
        texts: list[str] = []
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608
            texts.extend(row for (row,) in cursor.fetchall())
    return "\n".join(texts)


def test_the_copy_holds_their_contact_answers_notes_decisions_and_messages(
    lead: Lead, admin_client: Client
) -> None:
    page = admin_client.get(f"/staff/leads/{lead.code}/personal-data/")
    download = admin_client.get(f"/staff/leads/{lead.code}/personal-data/?format=json")

    assert page.status_code == 200
    shown = page.content.decode()
    for words in (NAME, EMAIL, PHONE, NOTE, DECISION, "Aspirin"):
        assert words in shown
    assert download["Content-Disposition"] == (
        f'attachment; filename="personal-data-{lead.reference}.json"'
    )
    held = json.loads(download.content)
    (submission,) = held["intake"]["submissions"]
    assert (submission["full_name"], submission["email"]) == (NAME, EMAIL)
    assert any("Aspirin" in answer for answer in submission["answers"])
    assert submission["physician_decisions"][0]["note"] == DECISION
    assert NOTE in [event["text"] for event in held["leads"]["timeline"]]
    templates = [m["template"] for m in held["followups"]["messages"]]
    assert templates == ["acknowledgment", "declined"]
    assert held["booking"] == {"bookings": []}
    reads = HealthDataAccess.objects.filter(what="personal_export")
    assert reads.count() == 2  # the page and the download


def test_erasure_leaves_nothing_of_them_in_any_table_and_keeps_the_counts(
    lead: Lead, admin_client: Client
) -> None:
    LogEntry.objects.create(  # an admin edit, which names the lead by str()
        user=staff(StaffMember.Role.CLINIC_ADMIN),
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=str(lead.pk),
        object_repr=str(lead),
        action_flag=CHANGE,
    )
    assert NAME in _everything_stored()  # the search below can find them
    pending = FollowUpMessage.objects.get(lead=lead, step__template_key="declined")
    assert pending.status == DeliveryStatus.PENDING

    erased = admin_client.post(
        f"/staff/leads/{lead.code}/personal-data/erase",
        {"reference": lead.reference.lower()},
    )

    assert erased.status_code == 302
    stored = _everything_stored()
    for words in (NAME, "Nilüfer", "Karaağaçlı", EMAIL, "nilufer.k", PHONE, "532 111"):
        assert words not in stored, words
    for words in (NOTE, DECISION, "1984-07-19"):
        assert words not in stored, words
    # What the clinic counts stays.
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason) == ("lost", "erased")
    assert Submission.objects.get().birth_date.isoformat() == "1984-01-01"
    assert LeadTreatment.objects.get(lead=lead, treatment="mesotherapy").outcome
    assert ScreeningResult.objects.get().outcomes
    record = PersonalDataErasure.objects.get(lead=lead)
    assert record.erased_by is not None
    assert (record.reason, record.erased_by.username) == ("request", "privacy")
    assert record.changed["intake"]["submissions"] == 1
    # Nothing more goes to them, and the lead's page still opens, without them.
    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.SKIPPED
    assert admin_client.get(f"/staff/leads/{lead.code}/").status_code == 200
    health = admin_client.get(f"/staff/leads/{lead.code}/health")
    assert health.status_code == 200
    assert "Aspirin" not in health.content.decode()


def test_a_wrong_reference_erases_nothing_and_says_which_is_right(
    lead: Lead, admin_client: Client
) -> None:
    refused = admin_client.post(
        f"/staff/leads/{lead.code}/personal-data/erase", {"reference": "L-00000000"}
    )

    assert refused.status_code == 422
    assert f"That is not this lead&#x27;s reference ({lead.reference})." in (
        refused.content.decode()
    )
    assert not PersonalDataErasure.objects.exists()
    assert Lead.objects.get(pk=lead.pk).full_name == NAME


@pytest.mark.parametrize(
    "role", [StaffMember.Role.COORDINATOR, StaffMember.Role.PHYSICIAN]
)
def test_only_a_clinic_admin_handles_a_persons_data(
    lead: Lead, location: Location, role: str
) -> None:
    client = Client()
    client.force_login(staff(role, locations=[location]))

    assert client.get(f"/staff/leads/{lead.code}/personal-data/").status_code == 403
    erase = f"/staff/leads/{lead.code}/personal-data/erase"
    assert client.post(erase, {"reference": lead.reference}).status_code == 403
    assert not PersonalDataErasure.objects.exists()
    assert not HealthDataAccess.objects.filter(what="personal_export").exists()


def test_the_lead_page_offers_it_to_the_clinic_admin_only(
    lead: Lead, admin_client: Client, location: Location
) -> None:
    link = f"/staff/leads/{lead.code}/personal-data/"
    coordinator = Client()
    coordinator.force_login(staff(locations=[location]))

    assert link in admin_client.get(f"/staff/leads/{lead.code}/").content.decode()
    assert link not in coordinator.get(f"/staff/leads/{lead.code}/").content.decode()


def test_erasing_twice_is_harmless(lead: Lead) -> None:
    admin = staff(StaffMember.Role.CLINIC_ADMIN)
    lead_personal_data_erase(lead=lead, reason="request", user=admin)
    again = lead_personal_data_erase(lead=lead, reason="request", user=admin)

    assert again.changed["intake"]["photos"] == 0
    assert PersonalDataErasure.objects.filter(lead=lead).count() == 2


def _last_heard(lead: Lead, when: dt.datetime) -> None:
    """Move the lead's past back to `when`: the timeline refuses such a change, so
    triggers are off (as for a replica) for this one statement."""
    Lead.objects.filter(pk=lead.pk).update(last_submitted_at=when)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        LeadEvent.objects.filter(lead=lead).update(created_at=when)
        cursor.execute("SET session_replication_role = DEFAULT")


def test_leads_unheard_of_past_the_clinics_retention_are_erased_as_nobody(
    published: QuestionnaireVersion, location: Location
) -> None:
    ClinicBranding.objects.create(retention_months=24)
    now = timezone.now()
    forgotten = lead_of(
        submit(published, email="old@example.com", phone="0532 000 00 01")
    )
    _last_heard(forgotten, now - dt.timedelta(days=25 * 31))
    noted = lead_of(
        submit(published, email="noted@example.com", phone="0532 000 00 02")
    )
    _last_heard(noted, now - dt.timedelta(days=25 * 31))
    lead_note_add(lead=noted, text="Called back", actor=staff(locations=[location]))
    in_care = lead_of(
        submit(published, email="care@example.com", phone="0532 000 00 03")
    )
    _last_heard(in_care, now - dt.timedelta(days=25 * 31))
    Lead.objects.filter(pk=in_care.pk).update(status=Lead.Status.BOOKED)
    recent = lead_of(submit(published, email="new@example.com", phone="0532 000 00 04"))

    assert lead_retention_erase_due(now=now) == 1
    assert lead_retention_erase_due(now=now) == 0  # once

    (erasure,) = PersonalDataErasure.objects.all()
    assert (erasure.lead, erasure.reason, erasure.erased_by) == (
        forgotten,
        "retention",
        None,
    )
    emails = set(Lead.objects.values_list("email", flat=True))
    assert emails == {"", "noted@example.com", "care@example.com", recent.email}


def test_a_clinic_that_keeps_data_until_asked_erases_nothing_by_time(
    published: QuestionnaireVersion,
) -> None:
    ClinicBranding.objects.create(retention_months=0)
    lead = lead_of(submit(published))
    _last_heard(lead, timezone.now() - dt.timedelta(days=3650))

    assert lead_retention_erase_due() == 0


def _their_page(lead: Lead, language: str = "en") -> str:
    token = unsubscribe_token(lead_code=lead.code, language=language)
    return f"/u/{token}/your-data/"


def test_the_person_asks_for_a_copy_through_their_link_and_the_admin_sees_it(
    lead: Lead, admin_client: Client
) -> None:
    person = Client()
    page = person.get(_their_page(lead))
    assert page.status_code == 200
    assert NAME not in page.content.decode()  # whoever holds the link sees no data

    asked = person.post(_their_page(lead), {"action": "copy"})
    again = person.post(_their_page(lead), {"action": "copy"})

    assert asked["Location"].endswith("?done=copy")
    assert again.status_code == 302
    (request,) = PrivacyRequest.objects.all()
    assert (request.lead, request.kind) == (lead, "copy")
    dashboard = admin_client.get("/staff/dashboard/").content.decode()
    assert lead.reference in dashboard
    handled = admin_client.post(
        f"/staff/leads/{lead.code}/personal-data/requests/{request.pk}/handled"
    )
    assert handled.status_code == 302
    request.refresh_from_db()
    assert request.handled_at is not None
    assert lead.reference not in admin_client.get("/staff/dashboard/").content.decode()


def test_withdrawing_consent_stops_everything_at_once_and_is_told(lead: Lead) -> None:
    person = Client()
    unconfirmed = person.post(_their_page(lead), {"action": "withdraw"})
    assert unconfirmed.status_code == 422
    assert not PersonalDataErasure.objects.exists()

    withdrawn = person.post(_their_page(lead), {"action": "withdraw", "confirm": "yes"})

    assert withdrawn.status_code == 302
    erasure = PersonalDataErasure.objects.get()
    assert (erasure.reason, erasure.erased_by) == ("consent_withdrawn", None)
    declined = FollowUpMessage.objects.get(lead=lead, step__template_key="declined")
    assert declined.status == DeliveryStatus.SKIPPED
    assert NAME not in _everything_stored()
    told = person.get(withdrawn["Location"]).content.decode()
    assert "Your consent is withdrawn." in told
    assert "Your data was erased on" in told


def test_a_link_this_site_did_not_sign_finds_nothing(lead: Lead) -> None:
    assert Client().get("/u/not-a-token/your-data/").status_code == 404
    assert (
        Client().post("/u/not-a-token/your-data/", {"action": "copy"}).status_code
        == 404
    )
    assert not PrivacyRequest.objects.exists()
