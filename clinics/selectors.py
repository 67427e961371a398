"""Who a staff login is in the clinic, the location scope every door applies, the
clinic's branding as patients see it, and a login's API tokens.

Every staff read of location data (leads, submissions, outbox rows, audit rows, the
admin's lists, change pages, history and files) goes through `location_scoped`: an
object of a location the user does not work at does not exist for them, so every
door answers 404 or leaves it out of a list, never 403.

"""

import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import DatabaseError, connection
from django.db.models import Model, QuerySet, Subquery
from django.utils.translation import get_language

from clinics.models import ApiToken, ClinicBranding, Location, StaffMember

logger = logging.getLogger(__name__)
Role = StaffMember.Role
M = TypeVar("M", bound=Model)


def staff_member_get(user: User | AnonymousUser) -> StaffMember | None:
    """The user's StaffMember row, or None; one query, then cached on the user."""
    if not user.is_authenticated:
        return None
    member: StaffMember | None = getattr(user, "staff_member", None)
    return member


def staff_role_get(user: User | AnonymousUser) -> str | None:
    """The role that decides what `user` sees: a superuser is a clinic admin; a
    signed-in user without a StaffMember row has none and sees nothing."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.CLINIC_ADMIN
    member = staff_member_get(user)
    return member.role if member is not None else None


def staff_may_read_health(user: User | AnonymousUser) -> bool:
    """Physicians and clinic admins read health answers; coordinators do not."""
    return staff_role_get(user) in (Role.PHYSICIAN, Role.CLINIC_ADMIN)


def staff_is_physician(user: User | AnonymousUser) -> bool:
    """The one test of who makes medical decisions: a physician by StaffMember role.

    A superuser is not one by being a superuser: clearing a contraindication is a
    clinical act, not an administrative one.
    """
    member = staff_member_get(user)
    return member is not None and member.role == Role.PHYSICIAN


def location_scoped(
    queryset: QuerySet[M],
    *,
    user: User | AnonymousUser,
    location_field: str = "location",
) -> QuerySet[M]:
    """The rows of `queryset` whose `location_field` is a location `user` works at.

    All rows for a clinic admin; none for anyone without a staff role; rows whose
    location is empty (an audit row of a deleted submission) only for clinic admins.
    """
    role = staff_role_get(user)
    if role is None:
        return queryset.none()
    if role == Role.CLINIC_ADMIN:
        return queryset
    member = staff_member_get(user)
    if member is None:
        return queryset.none()
    own_locations = StaffMember.locations.through.objects.filter(
        staffmember_id=member.pk
    ).values("location_id")
    return queryset.filter(**{f"{location_field}__in": Subquery(own_locations)})


@dataclass(frozen=True)
class Branding:
    """The clinic as pages and emails present it; settings fill what is unset."""

    name: str
    logo_version: str  # empty: no logo; else changes whenever the logo does
    colour_accent: str
    colour_ink: str
    address: str
    phone: str
    email: str
    website: str
    controller: str
    privacy_contact: str
    retention_months: int
    staff_idle_minutes: int
    staff_session_hours: int
    privacy_notices: dict[str, str]
    privacy_notice_version: str

    @property
    def colours_version(self) -> str:
        """Changes with the colours: the stylesheet's address, cached for a day."""
        colours = f"{self.colour_accent}{self.colour_ink}".encode()
        return hashlib.sha256(colours).hexdigest()[:12]

    @property
    def privacy_notice(self) -> str:
        """The clinic's own privacy text in the page's language (may be empty)."""
        return self.privacy_notices.get((get_language() or "en")[:2], "")


def clinic_branding_get() -> Branding:
    """The clinic's branding: one query, the logo's bytes left in the database.

    With the database away the defaults stand in, so an error page still renders.
    """
    try:
        row = ClinicBranding.objects.defer("logo").order_by("pk").first()
    except DatabaseError:
        if connection.in_atomic_block:
            raise  # the transaction is broken: its owner must know
        logger.warning("branding unreadable; the defaults are shown")
        row = None
    row = row or ClinicBranding()
    logo_version = (
        hashlib.sha256(f"{row.pk}:{row.updated_at}".encode()).hexdigest()[:12]
        if row.logo_content_type
        else ""
    )
    return Branding(
        name=row.name or str(settings.CLINIC_NAME),
        logo_version=logo_version,
        colour_accent=row.colour_accent,
        colour_ink=row.colour_ink,
        address=row.address,
        phone=row.phone,
        email=row.email,
        website=row.website,
        controller=row.controller or row.name or str(settings.CLINIC_NAME),
        privacy_contact=row.privacy_contact or row.email or row.phone,
        retention_months=row.retention_months,
        staff_idle_minutes=row.staff_idle_minutes,
        staff_session_hours=row.staff_session_hours,
        privacy_notices={"en": row.privacy_notice_en, "tr": row.privacy_notice_tr},
        privacy_notice_version=row.privacy_notice_version,
    )


def clinic_logo_get() -> tuple[bytes, str] | None:
    """The logo's bytes and content type, or None when the clinic has none."""
    row = (
        ClinicBranding.objects.order_by("pk").only("logo", "logo_content_type").first()
    )
    if row is None or not row.logo_content_type:
        return None
    return bytes(row.logo), row.logo_content_type


def clinic_phone_get(*, location_slug: str | None = None) -> str:
    """The number a patient can call about the questionnaire, "" when none is known.

    The chosen active location's, else the clinic's (its branding), else the first
    active location's (by name) that has one.
    """
    with_phone = Location.objects.filter(is_active=True).exclude(phone="")
    if location_slug:
        chosen = with_phone.filter(slug=location_slug).first()
        if chosen is not None:
            return chosen.phone
    clinic_phone = clinic_branding_get().phone
    if clinic_phone:
        return clinic_phone
    first = with_phone.order_by("name").first()
    return first.phone if first is not None else ""


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    """`user`'s own API tokens, newest first, revoked and expired ones included."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def api_token_get_for_user(*, user: User, code: uuid.UUID) -> ApiToken | None:
    """`user`'s own token with `code`; anyone else's does not exist for them."""
    return ApiToken.objects.filter(user=user, code=code).first()
