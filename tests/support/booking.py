"""A practitioner's week and an appointment type, for the booking tests."""

import datetime as dt

from django.utils import timezone

from booking.models import AppointmentType, WeeklyAvailability
from clinics.models import Location, Practitioner
from core.zones import clinic_zone


def next_monday_at(hour: int, zone: str = "Europe/Istanbul") -> dt.datetime:
    """Monday at `hour` o'clock in `zone`, a week or two ahead, in UTC."""
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 + (-today.weekday()) % 7)
    local = dt.datetime.combine(monday, dt.time(hour), tzinfo=clinic_zone(zone))
    return local.astimezone(dt.UTC)


def practitioner_make(
    location: Location,
    *,
    name: str = "Dr. Demir",
    languages: tuple[str, ...] = ("tr",),
    weekdays: tuple[int, ...] = (0,),
) -> Practitioner:
    """A physician at `location` who works 9 to 18 on `weekdays` (Monday)."""
    doctor = Practitioner.objects.create(
        display_name=name, kind=Practitioner.Kind.PHYSICIAN, languages=list(languages)
    )
    doctor.locations.add(location)
    for weekday in weekdays:
        WeeklyAvailability.objects.create(
            practitioner=doctor,
            location=location,
            weekday=weekday,
            starts=dt.time(9),
            ends=dt.time(18),
        )
    return doctor


def appointment_make(
    *practitioners: Practitioner, treatment: str = "mesotherapy", **fields: object
) -> AppointmentType:
    """A 45-minute session with buffers of 10 and 15 minutes, no notice needed."""
    kind = AppointmentType.objects.create(
        **{
            "name_en": "Mesotherapy session",
            "name_tr": "Mezoterapi seansı",
            "treatment": treatment,
            "duration_minutes": 45,
            "buffer_before_minutes": 10,
            "buffer_after_minutes": 15,
            "min_notice_hours": 0,
            "horizon_days": 30,
            **fields,
        }
    )
    kind.practitioners.add(*practitioners)
    return kind
