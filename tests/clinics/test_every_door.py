"""Every door to location data keeps another location's objects out.

The test walks the whole URL configuration, the admin's generated screens
included, so it catches a door nobody remembered:

- a new URL pattern that takes an object id and is not in OBJECT_ROUTES or
  NOT_LOCATION_DATA fails test_every_route_with_an_id_is_classified, naming it;
- a listed route whose view reads its object without the scope, say
  `Submission.objects.filter(code=code).first()` instead of
  `submission_get_for_user(...)`, answers 200 to location A's physician for
  location B's submission, and test_another_locations_object_is_not_found fails
  for that route, role and sign-in, with the response in the message;
- a new admin screen for a model that reaches a Location through its foreign keys
  fails test_every_admin_screen_of_location_data_hides_another_locations_rows
  unless it hides B's row on its list, change, history and delete pages (a plain
  `admin.ModelAdmin` shows it), and has a builder in WORLD_ADMIN_OBJECTS.

Each check has its positive control: B's own staff reach the same URL, so a 404
means "scoped", not "wrong URL".
"""

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.db.models import ForeignKey, Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image
from rest_framework.test import APIClient

from booking.models import (
    AppointmentType,
    Booking,
    CalendarSync,
    Holiday,
    PractitionerCalendar,
)
from clinics.models import Location, Practitioner
from followups.models import Enrollment, FollowUpMessage
from intake.encryption import health_bytes_encrypt
from intake.models import (
    HealthDataAccess,
    QuestionnaireVersion,
    ScreeningOverride,
    Submission,
    SubmissionPhoto,
)
from intake.services.audit import health_data_access_record
from leads.models import (
    AssignmentRule,
    Lead,
    LeadEvent,
    StaffNotification,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.support.answers import complete_answers
from tests.support.factories import LeadFactory, LocationFactory
from tests.support.staff_api import api_key_for, staff

pytestmark = pytest.mark.django_db

PATIENT_B = "Berna Kaya"
NOW = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)


@dataclass
class World:
    """Location A's staff, and location B's patient with everything about her."""

    clinic_b: Location
    submission: Submission
    lead: Lead
    photo: SubmissionPhoto
    staff_a: dict[str, User]
    staff_b: dict[str, User]
    objects: dict[type[Model], Model]


def _all_permissions(user: User) -> User:
    """Every Django permission: only the location scope may stand in the way."""
    user.user_permissions.set(Permission.objects.all())
    return User.objects.get(pk=user.pk)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world(published: QuestionnaireVersion, location: Location) -> World:
    clinic_b = LocationFactory.create(slug="kadikoy", name="Kadıköy Clinic")
    cache.clear()  # the submission rate limit of earlier tests
    sent = APIClient().post(
        "/api/v1/submissions",
        {
            "language": "en",
            "answers": complete_answers(
                location="kadikoy",
                full_name=PATIENT_B,
                email="berna.kaya@example.com",
                phone="+90 555 111 22 33",
                blood_thinners=["apixaban"],
            ),
        },
        format="json",
    )
    assert sent.status_code == 201, sent.content
    submission = Submission.objects.get(code=sent.json()["id"])
    lead = Lead.objects.get(location=clinic_b)
    staff_a, staff_b = (
        {
            role: _all_permissions(
                staff(role, locations=[where], lead_coordinator=True, may_export=True)
            )
            for role in ROLES
        }
        for where in (location, clinic_b)
    )
    photo = SubmissionPhoto.objects.create(
        submission=submission,
        content_type="image/png",
        content_ciphertext=health_bytes_encrypt(_png()),
        width=4,
        height=4,
    )
    endpoint = WebhookEndpoint.objects.create(
        name="CRM", url="https://crm.example/hook", secret="s" * 32
    )
    objects: dict[type[Model], Model] = {
        Submission: submission,
        Lead: lead,
        HealthDataAccess: health_data_access_record(
            submission=submission,
            user=staff_b["physician"],
            what=HealthDataAccess.What.ANSWERS,
        ),
        StaffNotification: StaffNotification.objects.create(
            recipient=staff_b["coordinator"],
            lead=lead,
            kind=StaffNotification.Kind.ASSIGNED,
        ),
        WebhookDelivery: WebhookDelivery.objects.create(
            endpoint=endpoint, event_type="lead.created", lead=lead, body={}
        ),
        AssignmentRule: AssignmentRule.objects.create(
            name="Kadıköy leads", location=clinic_b
        ),
        Holiday: Holiday.objects.create(location=clinic_b, day=NOW.date(), name="B"),
        Booking: _booking(lead, clinic_b),
    }
    objects[CalendarSync] = _calendar_sync(objects[Booking])
    # B's acknowledgment, made with B's submission.
    objects[FollowUpMessage] = FollowUpMessage.objects.get(lead=lead)
    objects[Enrollment] = Enrollment.objects.filter(lead=lead).earliest("pk")
    return World(clinic_b, submission, lead, photo, staff_a, staff_b, objects)


def _booking(lead: Lead, where: Location) -> Booking:
    """A booking written as it is stored (the booking service's rules are tested
    in tests/booking)."""
    practitioner = Practitioner.objects.create(
        display_name="Dr. B", kind=Practitioner.Kind.PHYSICIAN
    )
    kind = AppointmentType.objects.create(
        name_en="Session", name_tr="Seans", treatment="mesotherapy", duration_minutes=30
    )
    return Booking.objects.create(
        lead=lead,
        appointment_type=kind,
        practitioner=practitioner,
        location=where,
        starts_at=NOW,
        ends_at=NOW + dt.timedelta(minutes=30),
        blocked_from=NOW,
        blocked_until=NOW + dt.timedelta(minutes=30),
    )


def _calendar_sync(booking: Model) -> CalendarSync:
    """A change of B's booking on its way to the practitioner's CalDAV calendar."""
    assert isinstance(booking, Booking)
    calendar = PractitionerCalendar.objects.create(
        practitioner=booking.practitioner, kind=PractitionerCalendar.Kind.CALDAV
    )
    return CalendarSync.objects.create(booking=booking, calendar=calendar, sequence=0)


# -- The API and the pages ---------------------------------------------------------

Kwargs = Callable[[World], dict[str, Any]]


def _submission(world: World) -> dict[str, Any]:
    return {"code": world.submission.code}


def _lead(world: World) -> dict[str, Any]:
    return {"code": world.lead.code}


def _lead_booking(world: World) -> dict[str, Any]:
    booking = world.objects[Booking]
    assert isinstance(booking, Booking)
    return {"code": world.lead.code, "booking": booking.code}


def _lead_message(world: World) -> dict[str, Any]:
    message = world.objects[FollowUpMessage]
    return {"code": world.lead.code, "message": message.pk}


DECISION = {"treatment": "mesotherapy", "decision": "declined", "note": "No."}

# Every route that takes the id of a location's object: how to name B's object,
# and the request to send (method, body).
OBJECT_ROUTES: dict[str, tuple[Kwargs, str, dict[str, Any] | None]] = {
    "v1:submission-fhir": (_submission, "get", None),
    "v1:submission-screening": (_submission, "get", None),
    "v1:lead-detail": (_lead, "get", None),
    "v1:lead-timeline": (_lead, "get", None),
    "v1:lead-health": (_lead, "get", None),
    "v1:lead-transition": (_lead, "post", {"to_status": "contacted"}),
    "v1:lead-assign": (_lead, "post", {"owner": None}),
    "v1:lead-notes": (_lead, "post", {"text": "Called, no answer."}),
    "v1:lead-calls": (_lead, "post", {"outcome": "reached", "summary": "Spoke."}),
    "v1:lead-merge": (_lead, "post", {"duplicate": "B's other lead"}),
    "v1:lead-decisions": (_lead, "post", DECISION),
    "v1:lead-screening-reevaluate": (_lead, "post", None),
    "v1:lead-booking-options": (_lead, "get", None),
    "v1:lead-booking-create": (
        _lead,
        "post",
        {"appointment_type": "B's", "practitioner": "B's", "starts_at": "2027-03-01"},
    ),
    "v1:lead-booking-reschedule": (
        _lead_booking,
        "post",
        {"practitioner": "B's", "starts_at": "2027-03-01"},
    ),
    "v1:lead-booking-cancel": (_lead_booking, "post", None),
    "v1:lead-booking-attended": (_lead_booking, "post", None),
    "v1:lead-booking-course": (_lead_booking, "get", None),
    "intake:done": (_submission, "get", None),
    # The staff pages (a form's fields sent as JSON are none: the control answers
    # with the form's errors, never "not found").
    "staff:lead": (_lead, "get", None),
    "staff:lead-call": (_lead, "post", {"outcome": "reached"}),
    "staff:lead-note": (_lead, "post", {"text": "Called."}),
    "staff:lead-status": (_lead, "post", {"to_status": "contacted"}),
    "staff:lead-assign": (_lead, "post", {"owner": ""}),
    "staff:lead-health": (_lead, "get", None),
    "staff:lead-merge": (_lead, "post", {"duplicate": "B's other lead"}),
    "staff:lead-book": (_lead, "get", None),
    "staff:lead-link": (_lead, "post", None),
    "staff:lead-book-at": (_lead, "post", {"starts_at": "2027-03-01"}),
    "staff:lead-attended": (_lead_booking, "post", None),
    "staff:lead-message-again": (_lead_message, "post", None),
    "staff:review-lead": (_lead, "get", None),
    "staff:review-decide": (_lead, "post", DECISION),
    "admin:intake_submission_photo": (
        lambda world: {
            "submission_id": world.submission.pk,
            "code": world.photo.code,
        },
        "get",
        None,
    ),
}

# Routes with an id that is not a location's object, and why.
NOT_LOCATION_DATA = {
    "staff:lead-personal-data": (
        "clinic admins only, who reach every location; the other roles are refused "
        "(tests/leads/test_personal_data.py)"
    ),
    "staff:lead-personal-data-erase": "clinic admins only, as staff:lead-personal-data",
    "staff:lead-privacy-request-handled": (
        "clinic admins only, as staff:lead-personal-data"
    ),
    "followups:your-data": "a signed link to the person's own data requests",
    "branding-css": "the clinic's colours, public",
    "branding-logo": "the clinic's logo, public",
    "v1:questionnaire-detail": "the published questionnaire, public",
    "v1:worker-check-detail": "an operations round trip, no patient data",
    "intake:step": "a step number of the visitor's own draft (session)",
    "intake:resume": "a signed link to the visitor's own draft",
    "booking:page": "a signed, expiring link to the person's own booking page",
    "booking:book": "a signed, expiring link to the person's own booking page",
    "booking:move": "the person's own booking, behind their signed link",
    "booking:cancel": "the person's own booking, behind their signed link",
    "booking:course": "the person's own booking, behind their signed link",
    "followups:unsubscribe": "a signed link to the person's own email preferences",
    "calendars:feed": (
        "public: a practitioner's feed behind its secret token (appointment types "
        "and lead references only, no names or health data)"
    ),
    "admin:intake_rules_edit": "a rule-set version: clinic-wide configuration",
    "admin:followups_messagetemplate_preview": (
        "a message template from a sample person: clinic-wide configuration"
    ),
    "admin:auth_user_password_change": "a login: Django's user permissions",
    "staff:api-token-revoke": (
        "the user's own API token: anyone else's answers 404 "
        "(tests/clinics/test_api_tokens.py)"
    ),
    "admin:view_on_site": "redirects only for models with a public page",
}
# The admin's generated screens (change, history, delete) are checked per model.
ADMIN_GENERATED = ("_change", "_history", "_delete")


def _routes(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _routes(pattern, prefix + str(pattern.pattern), inner)
        else:
            name = namespace + (pattern.name or "")
            yield prefix + str(pattern.pattern), name, pattern


def _takes_an_id(pattern: URLPattern) -> bool:
    return bool(pattern.pattern.converters or pattern.pattern.regex.groupindex)


def test_every_route_with_an_id_is_classified() -> None:
    unclassified = []
    for route, name, pattern in _routes(get_resolver()):
        if not _takes_an_id(pattern):
            continue
        if name in OBJECT_ROUTES or name in NOT_LOCATION_DATA:
            continue
        if name.startswith("admin:") and name.endswith(ADMIN_GENERATED):
            continue
        # The admin's catch-alls: the app index, the redirect to a change page.
        if name in ("admin:app_list", "admin:") or route.startswith("admin/"):
            continue
        unclassified.append(f"{route} ({name or 'no name'})")

    assert not unclassified, (
        "Routes with an id that no scope test covers: add each to OBJECT_ROUTES "
        f"(and scope its view) or to NOT_LOCATION_DATA with a reason: {unclassified}"
    )


def _client(user: User, sign_in: str) -> APIClient:
    client = APIClient()
    if sign_in == "session":
        client.force_login(user)
    else:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(user)}")
    return client


def _state(world: World) -> tuple[int, int, int, str]:
    world.lead.refresh_from_db()
    return (
        ScreeningOverride.objects.count(),
        LeadEvent.objects.filter(lead=world.lead).count(),
        HealthDataAccess.objects.count(),
        world.lead.status,
    )


ROLES = ("coordinator", "physician")


@pytest.mark.parametrize(
    ("name", "role", "sign_in"),
    [
        (name, role, sign_in)
        for name in sorted(OBJECT_ROUTES)
        for role in ROLES
        # The admin and the staff pages sign in by session only.
        for sign_in in (
            ("session",)
            if name.startswith(("admin:", "staff:"))
            else ("session", "token")
        )
    ],
)
def test_another_locations_object_is_not_found(
    world: World, name: str, role: str, sign_in: str
) -> None:
    kwargs, method, body = OBJECT_ROUTES[name]
    url = reverse(name, kwargs=kwargs(world))
    if body is not None and body.get("duplicate"):
        body = {"duplicate": str(LeadFactory.create(location=world.clinic_b).code)}
    before = _state(world)

    response = getattr(_client(world.staff_a[role], sign_in), method)(
        url, body, format="json"
    )

    assert response.status_code in (403, 404), (name, role, response.content[:300])
    assert PATIENT_B not in response.content.decode(errors="replace")
    assert _state(world) == before, f"{name} changed or read B's data"
    control = getattr(_client(world.staff_b["physician"], "session"), method)(
        url, body, format="json"
    )
    if name != "intake:done":  # the patient's own page: her session only
        assert control.status_code not in (403, 404), (name, control.content[:300])


# -- The admin -----------------------------------------------------------------


def _location_path(model: type[Model], depth: int = 3) -> str | None:
    """The lookup from `model` to a Location along foreign keys, if there is one."""
    if depth == 0:
        return None
    for field in model._meta.get_fields():
        if not isinstance(field, ForeignKey):
            continue
        related = field.related_model
        assert isinstance(related, type)
        if related is Location:
            return field.name
        deeper = _location_path(related, depth - 1)
        if deeper is not None:
            return f"{field.name}__{deeper}"
    return None


LOCATION_DATA_ADMINS = sorted(
    (model for model in admin.site._registry if _location_path(model)),
    key=lambda model: model._meta.label,
)


def test_the_admin_screens_of_location_data_are_the_ones_built_here(
    world: World,
) -> None:
    missing = [
        model._meta.label
        for model in LOCATION_DATA_ADMINS
        if model not in world.objects
    ]
    assert not missing, f"Build a location-B object for these admin screens: {missing}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "model", LOCATION_DATA_ADMINS, ids=lambda model: model._meta.label
)
def test_every_admin_screen_of_location_data_hides_another_locations_rows(
    world: World, model: type[Model], role: str
) -> None:
    row = world.objects[model]
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    ours, theirs = Client(), Client()
    ours.force_login(world.staff_a[role])
    theirs.force_login(world.staff_b[role])
    audited = HealthDataAccess.objects.count()

    listing = ours.get(reverse(f"{info}_changelist"), {"q": PATIENT_B})
    pages = {
        screen: ours.get(reverse(f"{info}_{screen}", args=[row.pk]))
        for screen in ("change", "history", "delete")
    }

    assert listing.status_code == 200
    assert row.pk not in {shown.pk for shown in listing.context["cl"].result_list}
    for screen, page in pages.items():
        # The admin's answer for a row that does not exist: back to the index.
        assert page.status_code in (302, 403, 404), (screen, page.content[:300])
        assert PATIENT_B not in page.content.decode()
    assert HealthDataAccess.objects.count() == audited
    control = theirs.get(reverse(f"{info}_change", args=[row.pk]))
    assert control.status_code == 200
