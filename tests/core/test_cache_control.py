"""No answer of this server stays in a browser's or a proxy's cache.

The test walks the whole URL configuration, the admin's generated screens included,
and requests every route as a signed-in clinic admin, ids filled in with real
objects, so a new page or endpoint is covered the day it is added.
"""

import datetime as dt
import io
import re
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.http import HttpResponseBase
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from booking.links import booking_link_make
from booking.models import AppointmentType, Booking
from clinics.models import Location, Practitioner, StaffMember
from clinics.services import api_token_create
from core.models import WorkerCheck
from followups.models import FollowUpMessage, MessageTemplate
from intake.encryption import health_bytes_encrypt
from intake.models import (
    QuestionnaireVersion,
    ScreeningRuleSetVersion,
    Submission,
    SubmissionPhoto,
)
from intake.services.resume import resume_token
from intake.services.submissions import intake_draft_start
from intake.views import SUBMITTED_SESSION_KEY
from leads.models import (
    AssignmentRule,
    Lead,
    StaffNotification,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.support.answers import complete_answers
from tests.support.staff_api import client_for, staff

pytestmark = pytest.mark.django_db

# The routes the issue found cacheable; each must really answer with its data here.
NOW = timezone.now() + dt.timedelta(days=3)
HEALTH_DATA_ROUTES = {
    "v1:lead-list",
    "v1:lead-detail",
    "v1:lead-health",
    "v1:submission-fhir",
    "v1:submission-screening",
    "v1:screening-evaluate",
}
# Routes that only take a POST are sent one too: the answer people get.
POSTS = {
    "v1:screening-evaluate": {"answers": {"pregnant": False}},
    "v1:lead-notes": {"text": "Called, left a message."},
}
_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _routes(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _routes(pattern, prefix + str(pattern.pattern), inner)
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern), namespace + (pattern.name or "")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()


class World:
    """A patient's submission and lead, a photo, a draft, the clinic admin, and a
    row for each admin screen."""

    def __init__(self, location: Location) -> None:
        cache.clear()  # the submission rate limit
        sent = APIClient().post(
            "/api/v1/submissions",
            {"language": "en", "answers": complete_answers()},
            format="json",
        )
        assert sent.status_code == 201, sent.content
        self.submission = Submission.objects.get(code=sent.json()["id"])
        self.lead = Lead.objects.get(location=location)
        self.admin = staff(StaffMember.Role.CLINIC_ADMIN, locations=[location])
        # The admin's screens too: a clinic admin who may open every one.
        User.objects.filter(pk=self.admin.pk).update(is_superuser=True)
        self.admin.refresh_from_db()
        self.photo = SubmissionPhoto.objects.create(
            submission=self.submission,
            content_type="image/png",
            content_ciphertext=health_bytes_encrypt(_png()),
            width=4,
            height=4,
        )
        self.check = WorkerCheck.objects.create(requested_by=self.admin)
        self.draft = intake_draft_start(language="en", consent_health=True, source={})
        Group.objects.create(name="Front desk")
        api_token_create(user=self.admin, name="reporting")
        endpoint = WebhookEndpoint.objects.create(
            name="CRM", url="https://crm.example/hook", secret="s" * 32
        )
        WebhookDelivery.objects.create(
            endpoint=endpoint, event_type="lead.created", lead=self.lead, body={}
        )
        AssignmentRule.objects.create(name="Every lead", location=location)
        doctor = Practitioner.objects.create(display_name="Dr. Demir", kind="physician")
        self.booking = Booking.objects.create(
            lead=self.lead,
            appointment_type=AppointmentType.objects.create(
                name_en="Session", name_tr="Seans", treatment="prp", duration_minutes=30
            ),
            practitioner=doctor,
            location=location,
            starts_at=NOW,
            ends_at=NOW + dt.timedelta(minutes=30),
            blocked_from=NOW,
            blocked_until=NOW + dt.timedelta(minutes=30),
        )
        self.booking_link = booking_link_make(lead=self.lead, now=NOW).token
        StaffNotification.objects.create(
            recipient=self.admin, lead=self.lead, kind=StaffNotification.Kind.ASSIGNED
        )

    def value(self, route: str, name: str) -> str:
        """A real object's id for parameter `name` of `route`."""
        admin_object = re.match(r"admin/(\w+)/(\w+)/<path:object_id>", route)
        values = {
            "slug": self.submission.questionnaire_version.questionnaire.slug,
            "number": "1",
            "token": self.booking_link
            if "book/" in route
            else resume_token(self.draft),
            "booking": str(self.booking.code),
            "submission_id": str(self.submission.pk),
            "version_id": str(ScreeningRuleSetVersion.objects.get().pk),
            "template_id": str(MessageTemplate.objects.earliest("pk").pk),
            "message": str(FollowUpMessage.objects.earliest("pk").pk),
            "id": str(self.admin.pk),
            "content_type_id": str(ContentType.objects.get_for_model(Lead).pk),
            "app_label": "leads",
            "url": "no-such-page/",
            "version": "1",
            "request_id": "1",
        }
        if name == "code":
            if "book/" in route:
                return str(self.booking.code)
            if route.startswith(("api/v1/leads/", "staff/leads/", "staff/review/")):
                return str(self.lead.code)
            if route.startswith("api/v1/ops/"):
                return str(self.check.code)
            if "/photo/" in route:
                return str(self.photo.code)
            return str(self.submission.code)
        if name == "object_id" and admin_object:
            app_label, model_name = admin_object.groups()
            model = apps.get_model(app_label, model_name)
            row = model._default_manager.order_by("pk").first()
            return str(row.pk) if row is not None else "0"
        if name == "object_id":
            return str(self.lead.pk)  # the admin's view-on-site redirect
        return values[name]

    def path(self, route: str) -> str:
        filled = _PARAMETER.sub(
            lambda match: self.value(route, match[1] or match[2]), route
        )
        return "/" + filled.replace("^", "").replace("$", "")


# The clinic's colours and logo: the same for everyone, no person in them, and their
# addresses change with them, so browsers may keep them.
PUBLIC_PREFIXES = ("/branding/",)


def _answer(
    client: APIClient, method: str, path: str, body: object
) -> HttpResponseBase:
    cache.clear()  # rate limits and throttles
    response: HttpResponseBase = getattr(client, method)(path, body, format="json")
    if response.streaming:
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response


def test_every_page_and_api_answer_tells_caches_not_to_store_it(
    published: QuestionnaireVersion, location: Location
) -> None:
    world = World(location)
    client = client_for(world.admin)
    session = client.session  # the patient's own next-steps page opens in it
    session[SUBMITTED_SESSION_KEY] = [str(world.submission.code)]
    session.save()
    answers: dict[tuple[str, str], HttpResponseBase] = {}

    for route, name in _routes(get_resolver()):
        path = world.path(route)
        answers[("get", path)] = _answer(client, "get", path, None)
        if name in POSTS:
            answers[("post", path)] = _answer(client, "post", path, POSTS[name])
        if name in HEALTH_DATA_ROUTES:
            method = "post" if name in POSTS else "get"
            status = answers[(method, path)].status_code
            assert status == 200, f"{name} answered {status}: no data was read"

    cacheable = sorted(
        f"{method.upper()} {path} ({response.status_code}): "
        f"{response.get('Cache-Control', 'no Cache-Control')}"
        for (method, path), response in answers.items()
        if "no-store" not in response.get("Cache-Control", "")
        and not path.startswith(PUBLIC_PREFIXES)
    )
    assert len(answers) > 100
    assert cacheable == []
