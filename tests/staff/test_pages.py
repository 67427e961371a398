"""The staff pages as coordinators and physicians use them: the queue, the lead
page and its actions without a reload (htmx), the physician's queue; another
location's lead does not exist; names are shown as text, never as markup."""

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.models import Booking
from clinics.models import Location, StaffMember
from followups.models import FollowUpMessage
from followups.services import followup_message_send
from intake.models import (
    HealthDataAccess,
    QuestionnaireVersion,
    Submission,
    TriggerTally,
)
from leads.models import Lead
from leads.selectors import LeadFilters, lead_urgency
from staff.selectors import URGENT, queue_page
from tests.support.booking import appointment_make, practitioner_make
from tests.support.factories import LeadFactory, LocationFactory
from tests.support.staff_api import leads_bulk_create, staff
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def coordinator(location: Location) -> User:
    return staff(locations=[location], first_name="Elif", last_name="Kaya")


@pytest.fixture
def physician(location: Location) -> User:
    return staff(StaffMember.Role.PHYSICIAN, locations=[location])


def test_the_queue_asks_anyone_signed_out_to_sign_in(client: Client) -> None:
    response = client.get("/staff/")

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/sign-in/?next=/staff/")


def test_the_queue_shows_the_most_urgent_lead_first_with_its_flags(
    published: QuestionnaireVersion, coordinator: User
) -> None:
    minor = lead_of(submit(published, birth_date="2010-03-01", full_name="Deniz Ak"))
    adult = lead_of(submit(published, email="b@example.com", phone="0532 999 88 77"))
    Lead.objects.filter(pk=minor.pk).update(
        first_contact_due_at=adult.first_contact_due_at.replace(year=2020)
    )

    page = _client(coordinator).get("/staff/").content.decode()

    assert page.index("Deniz Ak") < page.index(adult.full_name)
    assert "Minor (16)" in page
    assert "late" in page  # the overdue one says by how much
    assert "Waiting for review" in page  # a minor's treatments wait for a physician


def test_most_urgent_first_is_overdue_then_priority_then_deadline_page_by_page(
    coordinator: User, location: Location
) -> None:
    now = timezone.now()
    hours = dt.timedelta(hours=1)

    def lead(name: str, priority: str, due: dt.timedelta, **fields: object) -> None:
        LeadFactory(
            location=location,
            full_name=name,
            priority=priority,
            first_contact_due_at=now + due,
            **fields,
        )

    lead("Low soon", "low", 0.2 * hours)
    lead("Normal in an hour", "normal", hours)
    lead("High in three hours", "high", 3 * hours)
    lead("Normal overdue", "normal", -hours)
    lead("High contacted late", "high", -2 * hours, first_contacted_at=now)
    pages, cursor = [], None
    while True:
        page = queue_page(
            user=coordinator,
            filters=LeadFilters(),
            ordering=URGENT,
            cursor=cursor,
            now=now,
            page_size=2,
        )
        pages.append([row.lead.full_name for row in page.rows])
        if not (cursor := page.next_cursor):
            break

    assert pages == [
        ["Normal overdue", "High contacted late"],
        ["High in three hours", "Normal in an hour"],
        ["Low soon"],
    ]
    assert "Most urgent first" in _client(coordinator).get("/staff/").content.decode()
    # A made-up or another order's cursor starts the queue again, never a 500.
    for hostile in ("bm90IGEgY3Vyc29y", "eyJvIjoidXJnZW50IiwidiI6WyJ4Il0sImlkIjoxfQ"):
        answer = _client(coordinator).get("/staff/", {"cursor": hostile})
        assert answer.status_code == 302


def test_most_urgent_first_read_tier_by_tier_is_the_order_of_lead_urgency(
    coordinator: User, location: Location
) -> None:
    # The page reads each urgency tier along a deadline index; the order must be
    # the one sorting every lead by lead_urgency gives, across every page.
    leads_bulk_create(300, locations=[location], owners=[coordinator])
    now = timezone.now()
    seen: list[int] = []
    cursor = None
    while True:
        page = queue_page(
            user=coordinator,
            filters=LeadFilters(),
            ordering=URGENT,
            cursor=cursor,
            now=now,
            page_size=17,
        )
        seen += [row.lead.pk for row in page.rows]
        if not (cursor := page.next_cursor):
            break

    expected = (
        Lead.objects.filter(location=location)
        .annotate(urgency=lead_urgency(now=now))
        .order_by("urgency", "first_contact_due_at", "id")
        .values_list("id", flat=True)
    )
    assert seen == list(expected)


def test_filters_narrow_the_queue_and_a_bad_search_is_answered(
    published: QuestionnaireVersion, coordinator: User
) -> None:
    lead_of(submit(published, full_name="Ayşe Yılmaz"))
    lead_of(
        submit(
            published,
            full_name="Zeynep Demir",
            email="z@example.com",
            phone="0532 999 88 77",
        )
    )
    client = _client(coordinator)

    found = client.get("/staff/", {"q": "Zeynep"}, headers=HTMX).content.decode()
    refused = client.get("/staff/", {"q": "Ze"})

    assert "Zeynep Demir" in found
    assert "Ayşe Yılmaz" not in found
    assert 'id="queue-rows"' in found
    assert "<html" not in found  # only the rows
    assert refused.status_code == 400
    assert "Type at least" in refused.content.decode()


def test_another_locations_lead_does_not_exist_on_any_staff_page(
    published: QuestionnaireVersion, coordinator: User
) -> None:
    elsewhere = LocationFactory.create(slug="kadikoy", name="Kadıköy")
    lead = LeadFactory.create(location=elsewhere, full_name="Other Person")
    client = _client(coordinator)
    base = f"/staff/leads/{lead.code}/"

    assert "Other Person" not in client.get("/staff/").content.decode()
    assert client.get(base).status_code == 404
    for action in ("call", "note", "status", "assign"):
        assert client.post(base + action, {"outcome": "reached"}).status_code == 404
    assert client.get(base + "health").status_code == 404
    lead.refresh_from_db()
    assert lead.status == "new"


def test_a_call_logged_from_the_lead_page_shows_on_its_timeline_at_once(
    published: QuestionnaireVersion, coordinator: User
) -> None:
    lead = lead_of(submit(published))
    client = _client(coordinator)

    response = client.post(
        f"/staff/leads/{lead.code}/call",
        {"outcome": "reached", "summary": "Wants a Monday morning."},
        headers=HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="lead"')  # the page's body, swapped
    assert "Call: Reached" in body
    assert "Wants a Monday morning." in body
    # The number as people read it, a tap away.
    assert '<a href="tel:+905321234567">+90 532 123 45 67</a>' in body
    lead.refresh_from_db()
    assert lead.status == "contacted"
    assert lead.first_contacted_at is not None


def test_the_status_moves_only_where_the_pipeline_allows_with_a_reason_when_lost(
    published: QuestionnaireVersion, coordinator: User
) -> None:
    lead = lead_of(submit(published))
    client = _client(coordinator)
    url = f"/staff/leads/{lead.code}/status"

    page = client.get(f"/staff/leads/{lead.code}/").content.decode()
    offered = re.findall(r'<option value="(\w+)"', page.split('name="to_status"')[1])
    refused = client.post(url, {"to_status": "lost"}, headers=HTMX)
    wrong = client.post(url, {"to_status": "booked"}, headers=HTMX)
    moved = client.post(
        url, {"to_status": "lost", "lost_reason": "price"}, headers=HTMX
    )

    assert "contacted" in offered
    assert "booked" not in offered
    assert refused.status_code == 422
    assert "Say why the lead is lost." in refused.content.decode()
    assert wrong.status_code == 422
    assert moved.status_code == 200
    assert "Status: New → Lost (Price)" in moved.content.decode()


def test_a_coordinator_takes_an_unassigned_lead_and_bulk_closes_others(
    published: QuestionnaireVersion, coordinator: User, location: Location
) -> None:
    first = LeadFactory.create(location=location)
    second = LeadFactory.create(location=location)
    client = _client(coordinator)

    taken = client.post(
        f"/staff/leads/{first.code}/assign", {"owner": coordinator.pk}, headers=HTMX
    )
    closed = client.post(
        "/staff/bulk",
        {"lead": [str(second.code)], "action": "close", "lost_reason": "timing"},
    )

    assert "Assigned to" in taken.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.owner == coordinator
    assert closed.status_code == 302
    assert (second.status, second.lost_reason) == ("lost", "timing")


def test_a_name_with_markup_is_shown_as_text(
    published: QuestionnaireVersion, coordinator: User, physician: User
) -> None:
    name = '<script>alert("x")</script><b>Eve</b>'
    lead = lead_of(submit(published, full_name=name, blood_thinners=["aspirin"]))

    pages = [
        _client(coordinator).get("/staff/").content.decode(),
        _client(coordinator).get(f"/staff/leads/{lead.code}/").content.decode(),
        _client(physician).get("/staff/review/").content.decode(),
        _client(physician).get(f"/staff/review/{lead.code}/").content.decode(),
    ]

    for page in pages:
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_coordinators_read_no_health_answers_and_a_physicians_read_is_audited(
    published: QuestionnaireVersion, coordinator: User, physician: User
) -> None:
    lead = lead_of(submit(published, blood_thinners=["aspirin"]))
    url = f"/staff/leads/{lead.code}/health"

    refused = _client(coordinator).get(url, headers=HTMX)
    page = _client(coordinator).get(f"/staff/leads/{lead.code}/").content.decode()
    read = _client(physician).get(url, headers=HTMX)

    assert refused.status_code == 403
    assert "spirin" not in page
    assert read.status_code == 200
    assert "Aspirin" in read.content.decode()
    assert HealthDataAccess.objects.filter(user=physician).count() == 1
    assert not HealthDataAccess.objects.filter(user=coordinator).exists()


def test_a_physician_clears_a_review_and_the_lead_leaves_their_queue(
    published: QuestionnaireVersion, physician: User, coordinator: User
) -> None:
    lead = lead_of(
        submit(
            published,
            blood_thinners=["aspirin"],
            full_name="Ece Su",
            treatments_wanted=["mesotherapy"],
        )
    )
    client = _client(physician)

    queue = client.get("/staff/review/").content.decode()
    review = client.get(f"/staff/review/{lead.code}/").content.decode()
    empty_note = client.post(
        f"/staff/review/{lead.code}/decide",
        {"treatment": "mesotherapy", "decision": "cleared"},
    )
    decided = client.post(
        f"/staff/review/{lead.code}/decide",
        {"treatment": "mesotherapy", "decision": "cleared", "note": "Aspirin only."},
    )

    assert "Ece Su" in queue
    assert "<mark>" in review  # the answers that caused it
    assert "Source" in review
    assert empty_note.status_code == 422
    assert decided.status_code == 302
    assert decided["Location"] == "/staff/review/"
    assert "Ece Su" not in client.get("/staff/review/").content.decode()
    assert _client(coordinator).get("/staff/review/").status_code == 403


def _queries(run: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


def test_the_queue_and_the_lead_page_run_a_fixed_number_of_queries(
    published: QuestionnaireVersion, coordinator: User, location: Location
) -> None:
    client = _client(coordinator)
    leads_bulk_create(10, locations=[location], owners=[coordinator])
    client.get("/staff/")  # fills the configuration cache, as a server's first page
    few = _queries(lambda: client.get("/staff/", {"status": "contacted"}))
    lead = Lead.objects.first()
    assert lead is not None
    page_few = _queries(lambda: client.get(f"/staff/leads/{lead.code}/"))

    leads_bulk_create(10_000, locations=[location], owners=[coordinator], seed=8)
    many = _queries(lambda: client.get("/staff/", {"status": "contacted"}))
    page_many = _queries(lambda: client.get(f"/staff/leads/{lead.code}/"))

    assert few == many
    assert page_few == page_many


def test_the_clinic_admins_funnel_counts_each_step_and_downloads_as_csv(
    published: QuestionnaireVersion, coordinator: User, location: Location
) -> None:
    admin = staff(StaffMember.Role.CLINIC_ADMIN, locations=[location])
    sunny = {"sun_hours_per_day": "over_3", "sunscreen": "rarely"}
    reached = lead_of(submit(published, **sunny))
    lead_of(submit(published, email="b@example.com", phone="0532 999 88 77", **sunny))
    Submission.objects.update(source={"utm_source": '=HYPERLINK("x")<b>ad</b>'})
    _client(coordinator).post(
        f"/staff/leads/{reached.code}/call", {"outcome": "reached"}
    )
    client = _client(admin)

    page = client.get("/staff/dashboard/").content.decode()
    csv_text = client.get("/staff/dashboard.csv").content.decode()

    assert "Received" in page
    assert "50%" in page  # one of two contacted
    assert "<b>ad</b>" not in page  # the source is text in the chart
    assert "&lt;b&gt;ad&lt;/b&gt;" in page
    assert "received,,2" in csv_text
    assert "contacted,,1" in csv_text
    assert "'=HYPERLINK" in csv_text  # never a formula in a spreadsheet
    # Counted per questionnaire, nobody named.
    assert "Questionnaires by trigger" in page
    assert "questionnaires_by_trigger,sun,2" in csv_text
    assert page.count(">Sun exposure<") == 1
    assert _client(coordinator).get("/staff/dashboard/").status_code == 403


def test_a_coordinator_books_for_the_patient_one_of_the_times_offered(
    published: QuestionnaireVersion, coordinator: User, location: Location
) -> None:
    appointment_make(practitioner_make(location, weekdays=tuple(range(7))))
    lead = lead_of(submit(published, treatments_wanted=["mesotherapy"]))
    client = _client(coordinator)

    page = client.get(f"/staff/leads/{lead.code}/book/").content.decode()
    fields = dict(
        re.findall(r'name="(appointment_type|practitioner|location|starts_at)" '
                   r'value="([^"]+)"', page)
    )  # fmt: skip
    booked = client.post(f"/staff/leads/{lead.code}/book/at", fields)
    again = client.post(f"/staff/leads/{lead.code}/book/at", fields)

    assert booked.status_code == 302
    assert Booking.objects.get().booked_by == coordinator
    assert again["Location"].endswith("/book/")  # the time is gone: choose another
    assert Booking.objects.count() == 1
    lead.refresh_from_db()
    assert lead.status == "booked"


def test_a_suggested_duplicate_is_merged_from_the_lead_page(
    published: QuestionnaireVersion, coordinator: User
) -> None:
    first = lead_of(submit(published, full_name="Ayşe Yılmaz"))
    second = lead_of(
        submit(published, full_name="Ayse Y. Kaya", email="other@example.com")
    )
    assert second.match_uncertain_with == first  # same phone, another name
    client = _client(coordinator)

    page = client.get(f"/staff/leads/{second.code}/").content.decode()
    merged = client.post(
        f"/staff/leads/{second.code}/merge",
        {"duplicate": str(first.code)},
        headers=HTMX,
    )

    assert "Possibly the same person as Ayşe Yılmaz" in page
    assert merged.status_code == 200
    first.refresh_from_db()
    assert first.merged_into == second


def test_the_booking_link_is_emailed_from_the_lead_page_once_in_ten_minutes(
    published: QuestionnaireVersion, coordinator: User, location: Location
) -> None:
    appointment_make(practitioner_make(location, weekdays=tuple(range(7))))
    lead = lead_of(submit(published, treatments_wanted=["mesotherapy"]))
    nothing = lead_of(
        submit(
            published,
            email="b@example.com",
            phone="0532 999 88 77",
            treatments_wanted=["mesotherapy"],
            blood_thinners=["aspirin"],  # a physician looks first
        )
    )
    client = _client(coordinator)

    sent = client.post(f"/staff/leads/{lead.code}/link", headers=HTMX)
    again = client.post(f"/staff/leads/{lead.code}/link", headers=HTMX)
    refused = client.post(f"/staff/leads/{nothing.code}/link", headers=HTMX)

    assert "The link to choose a time goes to" in sent.content.decode()
    assert "A link went a few minutes ago" in again.content.decode()
    assert "Nothing can be booked online" in refused.content.decode()
    (message,) = FollowUpMessage.objects.filter(step__template_key="booking_link")
    mail.outbox.clear()
    followup_message_send(message_id=message.pk)
    (email,) = mail.outbox
    assert "/book/" in email.body
    assert email.to == [lead.email]


def test_a_questionnaire_after_midnight_local_time_counts_on_the_local_day(
    published: QuestionnaireVersion, location: Location, monkeypatch: Any
) -> None:
    # 23:30 in London is 02:30 the next morning in Istanbul, where the clinic is.
    late = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: late)

    submit(published, sun_hours_per_day="over_3", sunscreen="rarely")

    tally = TriggerTally.objects.get(trigger="sun")
    assert tally.day == dt.date(2026, 12, 2)
