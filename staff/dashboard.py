"""The clinic admin's funnel: what came in and where it went, over a date range
and a location. Counts only: no person is named, no health answer read."""

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, Exists, Min, OuterRef

from booking.models import Booking
from clinics.models import Location
from clinics.selectors import location_scoped
from intake.selectors.submissions import submission_sources_by_week, trigger_counts
from leads.models import Lead, LeadEvent, LeadTreatment
from leads.selectors import lead_list_for_user


@dataclass(frozen=True)
class Speed:
    """Hours from the questionnaire to a step: median and 90th percentile."""

    median: float | None
    p90: float | None
    count: int


@dataclass(frozen=True)
class Funnel:
    received: int
    contacted: int
    booked: int
    treated: int
    lost: int
    per_week_by_source: list[tuple[dt.date, dict[str, int]]]
    to_contact: Speed
    to_booking: Speed
    outcomes: dict[str, Counter[str]]  # treatment -> outcome -> leads
    triggers: Counter[str]  # trigger -> questionnaires naming it
    lost_reasons: Counter[str]

    def rate(self, part: int, whole: int) -> int | None:
        return round(100 * part / whole) if whole else None


def funnel_read(
    *,
    user: User,
    since: dt.datetime,
    until: dt.datetime,
    location: Location | None,
) -> Funnel:
    """The leads created from `since` to before `until` (at `location`, or every
    location the user sees), each step counted once per lead: a fixed number of
    queries."""
    leads = lead_list_for_user(user=user).filter(
        merged_into__isnull=True, created_at__gte=since, created_at__lt=until
    )
    if location is not None:
        leads = leads.filter(location=location)
    location_ids = (
        Location.objects.filter(pk=location.pk)
        if location is not None
        else location_scoped(Location.objects.all(), user=user, location_field="pk")
    ).values("pk")
    bookings = Booking.objects.filter(lead_id=OuterRef("pk"))
    rows = list(
        leads.annotate(
            booked=Exists(bookings),
            treated=Exists(bookings.filter(attended_at__isnull=False)),
            first_booked_at=Min("bookings__created_at"),
        ).values(
            "created_at", "first_contacted_at", "status", "lost_reason", "booked",
            "treated", "first_booked_at",
        )
    )  # fmt: skip
    outcomes: dict[str, Counter[str]] = {}
    for treatment, outcome, n in (
        LeadTreatment.objects.filter(lead__in=leads)
        .values("treatment", "outcome")
        .annotate(n=Count("lead", distinct=True))
        .values_list("treatment", "outcome", "n")
    ):
        outcomes.setdefault(treatment, Counter())[outcome] = n
    return Funnel(
        received=len(rows),
        contacted=sum(1 for row in rows if row["first_contacted_at"]),
        booked=sum(1 for row in rows if row["booked"]),
        treated=sum(1 for row in rows if row["treated"]),
        lost=sum(1 for row in rows if row["status"] == Lead.Status.LOST),
        per_week_by_source=submission_sources_by_week(
            submission_ids=LeadEvent.objects.filter(
                lead__in=leads, kind=LeadEvent.Kind.SUBMITTED
            ).values("submission_id")
        ),
        to_contact=_speed(
            [(row["created_at"], row["first_contacted_at"]) for row in rows]
        ),
        to_booking=_speed(
            [(row["created_at"], row["first_booked_at"]) for row in rows]
        ),
        outcomes=outcomes,
        triggers=trigger_counts(
            since=since.date(), until=until.date(), location_ids=location_ids
        ),
        lost_reasons=Counter(
            row["lost_reason"] for row in rows if row["status"] == Lead.Status.LOST
        ),
    )


def _speed(pairs: list[tuple[dt.datetime, dt.datetime | None]]) -> Speed:
    hours = sorted(
        (later - start).total_seconds() / 3600 for start, later in pairs if later
    )
    if not hours:
        return Speed(None, None, 0)
    p90 = hours[min(len(hours) - 1, round(0.9 * (len(hours) - 1)))]
    return Speed(round(statistics.median(hours), 1), round(p90, 1), len(hours))
