"""The demo clinic's booking setup for `make run`, on top of leads' demo clinic: an
appointment type for each treatment, and the practitioners' weeks.

Idempotent, like the demo clinic; only settings with DEMO_DATA_ALLOWED may load it.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction

from booking.models import AppointmentType, WeeklyAvailability
from clinics.models import Location, Practitioner
from core.errors import BusinessError

# (treatment, English name, Turkish name, minutes, sessions, days apart, physician)
_TYPES = (
    ("mesotherapy", "Vitamin K mesotherapy session", "K vitamini mezoterapi seansı",
     45, 5, 21, True),
    ("laser_ipl", "Laser / IPL session", "Lazer / IPL seansı", 30, 4, 28, False),
    ("radiofrequency", "Radiofrequency session", "Radyofrekans seansı", 45, 4, 21,
     False),
    ("prp", "PRP session", "PRP seansı", 60, 3, 28, True),
    ("skincare", "Skincare consultation", "Cilt bakımı danışmanlığı", 30, 1, 0, False),
)  # fmt: skip
_WEEKDAYS = range(5)
SATURDAY = 5


@transaction.atomic
def demo_booking_load() -> int:
    """Create or refresh the demo appointment types and availability; how many
    appointment types there are. The demo clinic must be loaded first."""
    if not settings.DEMO_DATA_ALLOWED:
        raise BusinessError(
            "Demo data is only for development settings.", code="demo_not_allowed"
        )
    istanbul = Location.objects.get(slug="nisantasi")
    berlin = Location.objects.get(slug="berlin")
    physician = Practitioner.objects.get(kind=Practitioner.Kind.PHYSICIAN)
    nurse = Practitioner.objects.get(kind=Practitioner.Kind.AESTHETICIAN)
    for treatment, name_en, name_tr, minutes, sessions, spacing, by_physician in _TYPES:
        kind, _ = AppointmentType.objects.update_or_create(
            treatment=treatment,
            name_en=name_en,
            defaults={
                "name_tr": name_tr,
                "duration_minutes": minutes,
                "buffer_after_minutes": 15,
                "course_sessions": sessions,
                "course_spacing_days": spacing,
                # A course's effect is kept up by a session 6 to 12 months on.
                "maintenance_from_months": 6 if sessions > 1 else 0,
                "maintenance_until_months": 12 if sessions > 1 else 0,
            },
        )
        kind.practitioners.set([physician] if by_physician else [physician, nurse])
    weeks = [
        (physician, istanbul, _WEEKDAYS, dt.time(9), dt.time(17)),
        (physician, berlin, [SATURDAY], dt.time(10), dt.time(14)),
        (nurse, istanbul, [*_WEEKDAYS, SATURDAY], dt.time(10), dt.time(18)),
    ]
    WeeklyAvailability.objects.filter(practitioner__in=[physician, nurse]).delete()
    WeeklyAvailability.objects.bulk_create(
        WeeklyAvailability(
            practitioner=who, location=where, weekday=day, starts=starts, ends=ends
        )
        for who, where, days, starts, ends in weeks
        for day in days
    )
    return AppointmentType.objects.count()
