"""Who a staff login is in the clinic, and the location scope every door applies.

Every staff read of location data (leads, submissions, outbox rows, audit rows, the
admin's lists, change pages, history and files) goes through `location_scoped`: an
object of a location the user does not work at does not exist for them, so every
door answers 404 or leaves it out of a list, never 403.

"""

from typing import TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Model, QuerySet, Subquery

from clinics.models import Location, StaffMember

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


def clinic_phone_get(*, location_slug: str | None = None) -> str:
    """The number a patient can call about the questionnaire, "" when none is known.

    The chosen active location's, else the first active location's (by name) that
    has one. The one place to repoint when the clinic's contact details move to a
    clinic-wide (branding) record.
    """
    with_phone = Location.objects.filter(is_active=True).exclude(phone="")
    if location_slug:
        chosen = with_phone.filter(slug=location_slug).first()
        if chosen is not None:
            return chosen.phone
    first = with_phone.order_by("name").first()
    return first.phone if first is not None else ""
