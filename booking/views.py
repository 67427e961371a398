"""The patient's booking page, reached by their signed link (booking.links): the
free times to choose from, their bookings, and moving or cancelling them.

Thin: the page reads through booking.offers and booking.selectors, and books,
moves and cancels through booking.services, which ask the lead's screening again.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from booking.links import LinkExpired, booking_link_lead
from booking.models import AppointmentType, Booking
from booking.offers import appointments_not_offered, booking_choices, choice_read
from booking.selectors import (
    booking_gate,
    booking_may_change,
    course_rest_propose,
    lead_booking_list_upcoming,
)
from booking.services import (
    BookingCancelled,
    ChangeTooLate,
    NotBookable,
    SlotTaken,
    booking_cancel,
    booking_create,
    booking_reschedule,
    course_book_rest,
)
from clinics.models import Location, Practitioner
from core.errors import BusinessError
from core.security import embeddable
from core.zones import clinic_zone
from leads.models import Lead
from leads.pipeline import OPEN_STATUSES

DAYS_PER_PAGE = 7


def _lead(request: HttpRequest, token: str) -> Lead | HttpResponse:
    try:
        lead = booking_link_lead(token)
    except LinkExpired:
        return render(request, "booking/link_expired.html", status=410)
    if lead is None:
        raise Http404
    return lead


@embeddable
@never_cache
def booking_page(request: HttpRequest, token: str) -> HttpResponse:
    """The free times (a week at a time, `?from=` a later day), and the person's
    bookings; `?move=<booking>` picks a new time for one of them."""
    lead = _lead(request, token)
    if isinstance(lead, HttpResponse):
        return lead
    return _page(request, token, lead)


@embeddable
@require_POST
@never_cache
def booking_book(request: HttpRequest, token: str) -> HttpResponse:
    lead = _lead(request, token)
    if isinstance(lead, HttpResponse):
        return lead
    picked = _picked(request)
    if picked is None:
        return _page(request, token, lead, error=_("Choose one of the times offered."))
    kind, practitioner, location, starts_at = picked
    try:
        booking = booking_create(
            lead=lead,
            appointment_type=kind,
            practitioner=practitioner,
            location=location,
            starts_at=starts_at,
        )
    except (SlotTaken, NotBookable) as error:
        return _page(request, token, lead, error=_refusal(error), status=409)
    messages.success(
        request,
        _("Your appointment is booked. We have sent you an email with the details."),
    )
    return redirect(f"{_page_path(token)}?booked={booking.code}")


@embeddable
@require_POST
@never_cache
def booking_move(request: HttpRequest, token: str, code: uuid.UUID) -> HttpResponse:
    lead = _lead(request, token)
    if isinstance(lead, HttpResponse):
        return lead
    booking = _booking(lead, code)
    picked = _picked(request)
    if picked is None:
        return _page(
            request,
            token,
            lead,
            moving=booking,
            error=_("Choose one of the times offered."),
        )
    _kind, practitioner, location, starts_at = picked
    try:
        booking_reschedule(
            booking=booking,
            practitioner=practitioner,
            location=location,
            starts_at=starts_at,
        )
    except BusinessError as error:
        return _page(
            request, token, lead, moving=booking, error=_refusal(error), status=409
        )
    messages.success(
        request,
        _("Your appointment is moved. We have sent you an email with the new time."),
    )
    return redirect(_page_path(token))


@embeddable
@require_POST
@never_cache
def booking_course(request: HttpRequest, token: str, code: uuid.UUID) -> HttpResponse:
    """Book the rest of a course at the times proposed under its first session."""
    lead = _lead(request, token)
    if isinstance(lead, HttpResponse):
        return lead
    first = _booking(lead, code)
    times = _sessions(request.POST.getlist("session"))
    if not times:
        return _page(request, token, lead, error=_("Choose the sessions to book."))
    try:
        booked = course_book_rest(first=first, times=times)
    except BusinessError as error:
        return _page(request, token, lead, error=_refusal(error), status=409)
    messages.success(
        request,
        ngettext(
            "Your next session is booked. We have sent you an email with the details.",
            "Your %(count)d next sessions are booked. We have sent you an email "
            "about each.",
            len(booked),
        )
        % {"count": len(booked)},
    )
    return redirect(_page_path(token))


@embeddable
@never_cache
def booking_cancel_page(
    request: HttpRequest, token: str, code: uuid.UUID
) -> HttpResponse:
    """GET asks to confirm; POST cancels."""
    lead = _lead(request, token)
    if isinstance(lead, HttpResponse):
        return lead
    booking = _booking(lead, code)
    if request.method == "POST":
        try:
            booking_cancel(booking=booking)
        except (ChangeTooLate, BookingCancelled) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Your appointment is cancelled."))
        return redirect(_page_path(token))
    return render(
        request,
        "booking/cancel.html",
        {
            "booking": booking,
            "name": booking.appointment_type.name(
                translation.get_language() or lead.preferred_language
            ),
            "local": booking.starts_at.astimezone(
                clinic_zone(booking.location.time_zone)
            ),
            "may_change": booking_may_change(booking, now=timezone.now()),
            "back": _page_path(token),
        },
    )


def _page(
    request: HttpRequest,
    token: str,
    lead: Lead,
    *,
    moving: Booking | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    zone = clinic_zone(lead.location.time_zone)
    today = now.astimezone(zone).date()
    upcoming = lead_booking_list_upcoming(lead=lead, now=now)
    if moving is None and (move := request.GET.get("move")):
        moving = next(
            (b for b in upcoming if b.code.hex == move.replace("-", "")), None
        )
    # Moving starts from the days around its time (a course's sessions are weeks
    # away), unless the person paged elsewhere.
    around = (
        moving.starts_at.astimezone(zone).date() - dt.timedelta(days=3)
        if moving is not None
        else today
    )
    since_day = _day(request.GET.get("from"), today=today, default=around)
    is_open = lead.status in OPEN_STATUSES
    # Someone with an appointment sees it first; more times when they ask.
    choosing = is_open and (
        not upcoming or moving is not None or "from" in request.GET or bool(error)
    )
    gate = booking_gate(lead)
    choices = (
        booking_choices(
            lead=lead,
            gate=gate,
            now=now,
            since=dt.datetime.combine(since_day, dt.time(), tzinfo=zone),
            days=DAYS_PER_PAGE,
            moving=moving,
        )
        if choosing
        else []
    )
    if moving is not None:
        choices = [
            c for c in choices if c.appointment_type.pk == moving.appointment_type_id
        ]
    language = translation.get_language() or lead.preferred_language
    last_day = since_day + dt.timedelta(days=DAYS_PER_PAGE - 1)
    context: dict[str, Any] = {
        "lead": lead,
        "token": token,
        "error": error,
        "is_open": is_open,
        "choosing": choosing,
        "moving": moving,
        "moving_local": moving.starts_at.astimezone(zone) if moving else None,
        "choices": [
            (c, c.appointment_type.name(language), c.days(), c.practitioners())
            for c in choices
        ],
        "not_offered": appointments_not_offered(
            gate=gate,
            shown=[c.appointment_type for c in choices],
            last_day=last_day,
            language=language,
        )
        if choosing and moving is None
        else [],
        "bookings": [
            (
                booking,
                booking.appointment_type.name(language),
                booking.starts_at.astimezone(clinic_zone(booking.location.time_zone)),
                booking_may_change(booking, now=now),
                _course(booking, now=now) if is_open and moving is None else None,
            )
            for booking in upcoming
        ],
        "since_day": since_day,
        "earlier": (since_day - dt.timedelta(days=DAYS_PER_PAGE)).isoformat()
        if since_day > today
        else None,
        "earliest": max(
            since_day - dt.timedelta(days=DAYS_PER_PAGE), today
        ).isoformat(),
        "later": (since_day + dt.timedelta(days=DAYS_PER_PAGE)).isoformat(),
        "last_day": last_day,
        "zone_name": lead.location.time_zone,
        "booked": request.GET.get("booked", ""),
    }
    return render(request, "booking/page.html", context, status=status)


@dataclass(frozen=True)
class _CourseOffer:
    """Under a course's first session: the sessions still to book, each with its
    local time (or, with none free near it, the day it would fall) and the value
    the form sends for it ("" when there is none)."""

    total: int
    weeks_apart: int
    sessions: list[tuple[int, dt.datetime, str]]


def _course(booking: Booking, *, now: dt.datetime) -> _CourseOffer | None:
    kind = booking.appointment_type
    if booking.session_number != 1 or kind.course_sessions < 2:
        return None
    rest = course_rest_propose(booking, now=now)
    if not rest:
        return None
    zone = clinic_zone(booking.location.time_zone)
    return _CourseOffer(
        total=kind.course_sessions,
        weeks_apart=max(1, round(kind.course_spacing_days / 7)),
        sessions=[
            (
                session.number,
                (session.starts_at or session.target).astimezone(zone),
                f"{session.number}.{int(session.starts_at.timestamp())}"
                if session.starts_at
                else "",
            )
            for session in rest
        ],
    )


def _picked(
    request: HttpRequest,
) -> tuple[AppointmentType, Practitioner, Location, dt.datetime] | None:
    choice = choice_read(request.POST.get("time", ""))
    if choice is None:
        return None
    kind = AppointmentType.objects.filter(
        code=choice.appointment_type, is_active=True
    ).first()
    practitioner = Practitioner.objects.filter(
        code=choice.practitioner, is_active=True
    ).first()
    location = Location.objects.filter(pk=choice.location_id, is_active=True).first()
    if kind is None or practitioner is None or location is None:
        return None
    return kind, practitioner, location, choice.starts_at


def _sessions(values: list[str]) -> dict[int, dt.datetime]:
    """The course sessions a form sent ("<number>.<unix time>"), bad ones left out."""
    times = {}
    for value in values:
        number, _dot, seconds = value.partition(".")
        try:
            times[int(number)] = dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC)
        except (ValueError, OverflowError, OSError):
            continue
    return times


def _booking(lead: Lead, code: uuid.UUID) -> Booking:
    booking = (
        Booking.objects.select_related("appointment_type", "location", "practitioner")
        .filter(lead=lead, code=code)
        .first()
    )
    if booking is None:
        raise Http404
    return booking


def _refusal(error: BusinessError) -> str:
    if isinstance(error, SlotTaken):
        return _("Someone has just booked that time. Here are the times still free.")
    return str(error)


def _day(value: str | None, *, today: dt.date, default: dt.date) -> dt.date:
    """The day `value` names (ISO), else `default`; never before `today`."""
    try:
        day = dt.date.fromisoformat(value) if value else default
    except ValueError:
        day = default
    return max(day, today)


def _page_path(token: str) -> str:
    return reverse("booking:page", kwargs={"token": token})
