"""Who may open the staff pages: signed-in staff with a role; a clinic admin only
after their second factor (TOTP), which they set up at their first sign-in."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from clinics.models import StaffMember
from clinics.selectors import staff_is_physician, staff_role_get

View = Callable[..., HttpResponse]


def second_factor_required(user: User) -> bool:
    """Clinic admins (and superusers) sign in with a second factor; for the others
    it is their choice (STAFF_SECOND_FACTOR off: nobody's, for tests that are not
    about it)."""
    return (
        settings.STAFF_SECOND_FACTOR
        and staff_role_get(user) == StaffMember.Role.CLINIC_ADMIN
    )


def code_still_owed(user: User) -> bool:
    """Whether `user` signed in with their password but not yet their code: a
    clinic admin always owes one, anyone else once they set an app up."""
    if user.is_verified():  # type: ignore[attr-defined]  # django-otp's middleware
        return False
    return second_factor_required(user) or (
        settings.STAFF_SECOND_FACTOR and _has_device(user)
    )


def staff_required(view: View) -> View:
    """The view for staff with a role, signed in fully: anyone else goes to the
    sign-in page; a signed-in user without a role gets 403; a clinic admin (or
    anyone with a device) who has not given their code yet goes to give it."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('staff:login')}?next={request.path}")
        if staff_role_get(user) is None:
            raise PermissionDenied
        if code_still_owed(user):
            return redirect(f"{reverse('staff:verify')}?next={request.path}")
        return view(request, *args, **kwargs)

    return guarded


def physician_required(view: View) -> View:
    """staff_required, and the user is a physician: medical decisions are theirs."""

    @staff_required
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not staff_is_physician(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def _has_device(user: User) -> bool:
    from django_otp import user_has_device

    return bool(user_has_device(user, confirmed=True))


def admin_may_enter(request: HttpRequest) -> bool:
    """The admin's own test, and a full staff sign-in (the admin has no second
    sign-in page: its login goes to the staff one)."""
    user = request.user
    return bool(user.is_active and user.is_staff and not code_still_owed(user))
