"""The clinic admin's funnel dashboard, and the same figures as CSV."""

import csv
import datetime as dt
from collections import Counter
from typing import cast

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinics.models import Location, StaffMember
from clinics.selectors import location_scoped, staff_role_get
from core.spreadsheets import csv_cell
from intake.selectors.questionnaires import treatment_names
from leads.models import Lead
from leads.selectors import privacy_request_open_list
from staff.access import staff_required
from staff.charts import Bar, bar_chart
from staff.dashboard import Funnel, funnel_read
from staff.forms import OUTCOME_WORDS

DEFAULT_DAYS = 90


class RangeForm(forms.Form):
    since = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    location = forms.ModelChoiceField(
        label=gettext_lazy("Location"),
        queryset=Location.objects.order_by("name"),
        required=False,
        to_field_name="slug",
        empty_label=gettext_lazy("Every location"),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end comes before the start."))
        return data

    def days(self) -> tuple[dt.date, dt.date]:
        """The first and last day chosen (the last DEFAULT_DAYS when unset), once
        the form is valid or unbound."""
        data = self.cleaned_data if self.is_bound else {}
        until = data.get("until") or timezone.localdate()
        return data.get("since") or until - dt.timedelta(days=DEFAULT_DAYS), until


def day_bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """From the start of `since` to the end of `until`, in the clinic's time."""
    zone = timezone.get_current_timezone()
    return (
        dt.datetime.combine(since, dt.time(), tzinfo=zone),
        dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    )


def _funnel(request: HttpRequest) -> tuple[RangeForm, Funnel | None, dt.date, dt.date]:
    user = cast(User, request.user)
    if staff_role_get(user) != StaffMember.Role.CLINIC_ADMIN:
        raise PermissionDenied
    form = RangeForm(request.GET or None)
    locations = cast("forms.ModelChoiceField[Location]", form.fields["location"])
    locations.queryset = location_scoped(
        Location.objects.order_by("name"), user=user, location_field="pk"
    )
    today = timezone.localdate()
    if form.is_bound and not form.is_valid():
        return form, None, today, today
    since, until = form.days()
    start, end = day_bounds(since, until)
    location = form.cleaned_data.get("location") if form.is_bound else None
    funnel = funnel_read(user=user, since=start, until=end, location=location)
    return form, funnel, since, until


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form, funnel, since, until = _funnel(request)
    context: dict[str, object] = {
        "form": form,
        "funnel": funnel,
        "since": since,
        "until": until,
        "privacy_requests": privacy_request_open_list(),
    }
    if funnel is not None:
        # Markup of staff.charts, every label in it escaped.
        context["charts"] = {
            name: mark_safe(svg)  # noqa: S308  # nosec B308, B703
            for name, svg in _charts(funnel).items()
        }
    return render(
        request, "staff/dashboard.html", context, status=200 if funnel else 400
    )


# The redness triggers intake.screening.profiles names.
TRIGGER_WORDS = {
    "weight_loss": gettext_lazy("Rapid weight loss"),
    "hormones": gettext_lazy("Hormonal changes"),
    "sun": gettext_lazy("Sun exposure"),
    "lifestyle": gettext_lazy("Lifestyle"),
    "genetics": gettext_lazy("Family history"),
}


def _charts(funnel: Funnel) -> dict[str, str]:
    names = treatment_names(short=True)
    steps = [
        (_("Received"), funnel.received),
        (_("Contacted"), funnel.contacted),
        (_("Booked"), funnel.booked),
        (_("Treated"), funnel.treated),
    ]
    sources: dict[str, int] = {}
    for _week, counts in funnel.per_week_by_source:
        for source, n in counts.items():
            sources[source] = sources.get(source, 0) + n
    reasons = dict(Lead.LostReason.choices)
    return {
        "funnel": bar_chart(
            [
                Bar(label, n, f"{rate}%" if i and rate is not None else "")
                for i, (label, n) in enumerate(steps)
                for rate in [funnel.rate(n, funnel.received)]
            ],
            title=_("From questionnaire to treatment"),
        ),
        "weeks": bar_chart(
            [
                Bar(
                    f"{week:%d.%m}",
                    sum(counts.values()),
                    ", ".join(f"{s} {n}" for s, n in sorted(counts.items())),
                )
                for week, counts in funnel.per_week_by_source
            ],
            title=_("Questionnaires per week, by source"),
        ),
        "sources": bar_chart(
            [Bar(source, n) for source, n in Counter(sources).most_common()],
            title=_("By source"),
        ),
        "outcomes": bar_chart(
            [
                Bar(f"{names.get(t, t)}: {OUTCOME_WORDS.get(outcome, outcome)}", n)
                for t, counted in sorted(funnel.outcomes.items())
                for outcome, n in sorted(counted.items())
            ],
            title=_("Screening outcomes by treatment"),
        ),
        "triggers": bar_chart(
            [
                Bar(str(TRIGGER_WORDS.get(trigger, trigger)), n)
                for trigger, n in funnel.triggers.most_common()
            ],
            title=_("Questionnaires by trigger"),
        ),
        "lost": bar_chart(
            [
                Bar(str(reasons.get(reason, reason or "—")), n)
                for reason, n in funnel.lost_reasons.most_common()
            ],
            title=_("Why leads were lost"),
        ),
    }


@staff_required
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """The dashboard's figures, one per row: what a spreadsheet takes."""
    _form, funnel, since, until = _funnel(request)
    if funnel is None:
        return HttpResponse(status=400)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="funnel-{since:%Y%m%d}-{until:%Y%m%d}.csv"'
    )
    out = csv.writer(response)
    out.writerow(["figure", "group", "value"])
    for figure, value in (
        ("received", funnel.received),
        ("contacted", funnel.contacted),
        ("booked", funnel.booked),
        ("treated", funnel.treated),
        ("lost", funnel.lost),
        ("hours_to_contact_median", funnel.to_contact.median),
        ("hours_to_contact_p90", funnel.to_contact.p90),
        ("hours_to_booking_median", funnel.to_booking.median),
        ("hours_to_booking_p90", funnel.to_booking.p90),
    ):
        out.writerow([figure, "", "" if value is None else value])
    for week, counts in funnel.per_week_by_source:
        for source, n in sorted(counts.items()):
            out.writerow(
                ["questionnaires_per_week", f"{week.isoformat()} {csv_cell(source)}", n]
            )
    for treatment, counted in sorted(funnel.outcomes.items()):
        for outcome, n in sorted(counted.items()):
            out.writerow(["screening_outcome", f"{treatment} {outcome}", n])
    for trigger, n in funnel.triggers.most_common():
        out.writerow(["questionnaires_by_trigger", trigger, n])
    for reason, n in funnel.lost_reasons.most_common():
        out.writerow(["lost_reason", reason, n])
    return response
