"""Booking for the patient from their lead page (a coordinator on the phone with
them): the times their screening allows, one click each."""

import datetime as dt
import uuid
from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from booking.models import AppointmentType
from booking.selectors import booking_option_list
from booking.services import booking_create
from clinics.models import Location, Practitioner
from core.errors import BusinessError
from core.zones import clinic_zone
from staff.access import staff_required
from staff.views.common import lead_or_404

DAYS_SHOWN = 14
TIMES_SHOWN = 24


class BookForm(forms.Form):
    appointment_type = forms.UUIDField()
    practitioner = forms.UUIDField()
    location = forms.SlugField()
    starts_at = forms.DateTimeField()


@staff_required
def lead_book(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """The free times the lead may book in the next two weeks, per appointment."""
    lead = lead_or_404(request.user, code)
    now = timezone.now()
    options = booking_option_list(
        lead=lead, now=now, days=DAYS_SHOWN, first=TIMES_SHOWN
    )
    return render(
        request,
        "staff/book.html",
        {
            "lead": lead,
            "options": options,
            "zone": clinic_zone(lead.location.time_zone),
        },
    )


@require_POST
@staff_required
def lead_book_at(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """Book one of the times offered; a time taken meanwhile, or not allowed,
    says so and offers the others again."""
    user = cast(User, request.user)
    lead = lead_or_404(user, code)
    form = BookForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the times shown."))
        return redirect(reverse("staff:lead-book", args=[lead.code]))
    data = form.cleaned_data
    kind = AppointmentType.objects.filter(code=data["appointment_type"]).first()
    practitioner = Practitioner.objects.filter(code=data["practitioner"]).first()
    place = Location.objects.filter(slug=data["location"]).first()
    if kind is None or practitioner is None or place is None:
        messages.error(request, _("Choose one of the times shown."))
        return redirect(reverse("staff:lead-book", args=[lead.code]))
    try:
        booking = booking_create(
            lead=lead,
            appointment_type=kind,
            practitioner=practitioner,
            location=place,
            starts_at=cast(dt.datetime, data["starts_at"]),
            booked_by=user,
        )
    except BusinessError as error:
        messages.error(request, error.message)
        return redirect(reverse("staff:lead-book", args=[lead.code]))
    local = booking.starts_at.astimezone(clinic_zone(place.time_zone))
    messages.success(
        request,
        _("Booked: %(when)s with %(who)s. The confirmation goes by email.")
        % {"when": f"{local:%d.%m.%Y %H:%M}", "who": practitioner.display_name},
    )
    return redirect(reverse("staff:lead", args=[lead.code]))
