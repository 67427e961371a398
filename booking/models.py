"""What can be booked, when practitioners work, and the bookings themselves.

Times of day (availability, exceptions) are wall-clock times at the location, read in
its time zone; bookings are absolute (aware) times. Two bookings of one practitioner
never overlap, buffers included: on PostgreSQL an exclusion constraint refuses the
second (migration 0001), so no check-then-write can race.
"""

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import Location, Practitioner
from core.models import OutboxRow, outbox_due_index
from core.secrets import secret_decrypt, secret_encrypt

NO_DOUBLE_BOOKING = "booking_no_double_booking"


class AppointmentType(models.Model):
    """Something a patient books: a consultation, a session of a treatment."""

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_tr = models.CharField(_("name (Turkish)"), max_length=200)
    treatment = models.CharField(
        _("treatment"),
        max_length=40,
        help_text=_(
            "The treatment this appointment serves, as the questionnaire names it "
            "(e.g. mesotherapy). Its screening decides who may book it."
        ),
    )
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    buffer_before_minutes = models.PositiveSmallIntegerField(
        _("buffer before (minutes)"), default=0
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        _("buffer after (minutes)"), default=0
    )
    requires_physician_clearance = models.BooleanField(
        _("a physician must clear the person first"),
        default=False,
        help_text=_(
            "Bookable only once a physician has cleared this treatment for the "
            "person, whatever the rules said."
        ),
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("bookable up to (days ahead)"), default=28
    )
    min_notice_hours = models.PositiveSmallIntegerField(
        _("minimum notice (hours)"), default=12
    )
    change_notice_hours = models.PositiveSmallIntegerField(
        _("changes and cancellations up to (hours before)"),
        default=24,
        help_text=_(
            "Until then the patient may move or cancel through their link; later "
            "they call the clinic."
        ),
    )
    course_sessions = models.PositiveSmallIntegerField(
        _("sessions in a course"), default=1
    )
    course_spacing_days = models.PositiveSmallIntegerField(
        _("days between sessions"), default=0
    )
    maintenance_from_months = models.PositiveSmallIntegerField(
        _("maintenance from (months after the last session)"),
        default=0,
        help_text=_("0: no maintenance session is due after a course."),
    )
    maintenance_until_months = models.PositiveSmallIntegerField(
        _("maintenance until (months after the last session)"), default=0
    )
    practitioners = models.ManyToManyField(
        Practitioner,
        related_name="appointment_types",
        blank=True,
        verbose_name=_("practitioners"),
        help_text=_("Who performs this appointment."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["treatment", "name_en"]
        verbose_name = _("appointment type")
        verbose_name_plural = _("appointment types")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5),
                name="appointment_type_duration_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(course_sessions__gte=1),
                name="appointment_type_course_sessions",
            ),
        ]

    def __str__(self) -> str:
        return self.name_en

    def name(self, language: str) -> str:
        return self.name_tr if language == "tr" else self.name_en

    def clean(self) -> None:
        if self.course_sessions > 1 and not self.course_spacing_days:
            raise ValidationError(
                {"course_spacing_days": _("Say how many days apart the sessions are.")}
            )
        if self.maintenance_until_months < self.maintenance_from_months:
            raise ValidationError(
                {
                    "maintenance_until_months": _(
                        "The end of the maintenance window comes after its start."
                    )
                }
            )


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WeeklyAvailability(models.Model):
    """A practitioner works at a location on a weekday between two times."""

    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        related_name="weekly_availability",
        verbose_name=_("practitioner"),
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        related_name="weekly_availability",
        verbose_name=_("location"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        ordering = ["practitioner", "location", "weekday", "starts"]
        verbose_name = _("weekly availability")
        verbose_name_plural = _("weekly availability")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")),
                name="weekly_availability_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class AvailabilityException(models.Model):
    """A dated change to a practitioner's week: away all day (no times), or working
    other hours that day (its exceptions replace the weekly hours of that day)."""

    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        related_name="availability_exceptions",
        verbose_name=_("practitioner"),
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        related_name="availability_exceptions",
        verbose_name=_("location"),
    )
    day = models.DateField(_("day"))
    starts = models.TimeField(_("from"), null=True, blank=True)
    ends = models.TimeField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["day", "starts"]
        verbose_name = _("availability exception")
        verbose_name_plural = _("availability exceptions")
        indexes = [models.Index(fields=["practitioner", "location", "day"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(starts__isnull=True, ends__isnull=True)
                    | models.Q(ends__gt=models.F("starts"))
                ),
                name="availability_exception_times",
            )
        ]

    def __str__(self) -> str:
        if self.starts is None or self.ends is None:
            return f"{self.day}: away"
        return f"{self.day}: {self.starts:%H:%M}-{self.ends:%H:%M}"

    def clean(self) -> None:
        if (self.starts is None) != (self.ends is None):
            raise ValidationError(
                _("Give both times for other hours, or neither for a day away.")
            )
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValidationError({"ends": _("End after the start.")})


class Holiday(models.Model):
    """A day the location is closed: nobody is booked there."""

    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        related_name="holidays",
        verbose_name=_("location"),
    )
    day = models.DateField(_("day"))
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["day"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [
            models.UniqueConstraint(
                fields=["location", "day"], name="holiday_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class Booking(models.Model):
    """One appointment of one lead with one practitioner.

    `blocked_from`/`blocked_until` are the appointment padded with its type's
    buffers: the time the practitioner cannot take anyone else.
    """

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("lead"),
    )
    appointment_type = models.ForeignKey(
        AppointmentType,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("appointment type"),
    )
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("practitioner"),
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("location"),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    blocked_from = models.DateTimeField(_("blocked from (with buffers)"))
    blocked_until = models.DateTimeField(_("blocked until (with buffers)"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.CONFIRMED
    )
    # The first session of a course this one belongs to (itself for the first).
    course_first = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("first session of the course"),
    )
    session_number = models.PositiveSmallIntegerField(_("session number"), default=1)
    # Bumped at each change: calendar apps keep the copy with the highest SEQUENCE.
    sequence = models.PositiveIntegerField(_("change number"), default=0)
    # Which of the routing fallbacks found the practitioner (booking.routing).
    routing = models.CharField(
        _("how the practitioner was chosen"), max_length=20, blank=True
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Staff who booked for the patient; empty when they booked."),
        verbose_name=_("booked by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # When staff recorded that the session took place (aftercare follows it).
    attended_at = models.DateTimeField(_("attended"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        indexes = [
            models.Index(
                fields=["practitioner", "blocked_from"],
                condition=~models.Q(status="cancelled"),
                name="booking_practitioner_busy_idx",
            ),
            models.Index(fields=["lead", "starts_at"], name="booking_lead_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(ends_at__gt=models.F("starts_at"))
                    & models.Q(blocked_from__lte=models.F("starts_at"))
                    & models.Q(blocked_until__gte=models.F("ends_at"))
                ),
                name="booking_times_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} {self.starts_at:%Y-%m-%d %H:%M}"


class MaintenanceDue(models.Model):
    """When a finished course's maintenance session falls due: the follow-ups remind
    the person in this window. One per course, kept in step with its last session."""

    lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.CASCADE,
        related_name="maintenance_due",
        verbose_name=_("lead"),
    )
    course_first = models.OneToOneField(
        Booking,
        on_delete=models.CASCADE,
        related_name="maintenance",
        verbose_name=_("first session of the course"),
    )
    appointment_type = models.ForeignKey(
        AppointmentType,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("appointment type"),
    )
    due_from = models.DateField(_("due from"))
    due_until = models.DateField(_("due until"))

    class Meta:
        ordering = ["due_from", "id"]
        verbose_name = _("maintenance due")
        verbose_name_plural = _("maintenance due")
        indexes = [models.Index(fields=["due_from"], name="maintenance_due_from_idx")]

    def __str__(self) -> str:
        return f"{self.appointment_type} from {self.due_from}"


# -- Practitioners' calendars ------------------------------------------------------


def calendar_feed_token() -> str:
    """A new feed token: 256 random bits, URL-safe; the feed's only key."""
    return secrets.token_urlsafe(32)


class PractitionerCalendar(models.Model):
    """Where a practitioner's bookings appear: the built-in iCalendar feed they
    subscribe to, or their own CalDAV calendar, which the clinic writes to and
    reads busy time from (booking.calendars). The CalDAV address and login are
    stored encrypted (core.secrets); nothing but the worker talks to the server."""

    class Kind(models.TextChoices):
        BUILT_IN = "built_in", _("Built-in feed (subscribe by address)")
        CALDAV = "caldav", _("CalDAV calendar")

    practitioner = models.OneToOneField(
        Practitioner,
        on_delete=models.CASCADE,
        related_name="calendar",
        verbose_name=_("practitioner"),
    )
    kind = models.CharField(
        _("calendar"), max_length=10, choices=Kind.choices, default=Kind.BUILT_IN
    )
    caldav_url_secret = models.TextField(
        _("CalDAV address (encrypted)"), blank=True, editable=False
    )
    caldav_username_secret = models.TextField(
        _("CalDAV user name (encrypted)"), blank=True, editable=False
    )
    caldav_password_secret = models.TextField(
        _("CalDAV password (encrypted)"), blank=True, editable=False
    )
    # The secret part of the feed's address: whoever has it reads the feed.
    feed_token = models.CharField(
        _("feed token"),
        max_length=64,
        unique=True,
        default=calendar_feed_token,
        editable=False,
    )
    busy_imported_at = models.DateTimeField(
        _("busy time last read"), null=True, blank=True
    )
    busy_error = models.CharField(
        _("last error reading busy time"), max_length=500, blank=True
    )
    busy_error_at = models.DateTimeField(
        _("last error reading busy time at"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["practitioner__display_name"]
        verbose_name = _("practitioner calendar")
        verbose_name_plural = _("practitioner calendars")

    def __str__(self) -> str:
        return f"{self.practitioner} ({self.get_kind_display()})"

    @property
    def is_caldav(self) -> bool:
        return self.kind == self.Kind.CALDAV

    @property
    def caldav_url(self) -> str:
        return secret_decrypt(self.caldav_url_secret)

    @caldav_url.setter
    def caldav_url(self, value: str) -> None:
        self.caldav_url_secret = secret_encrypt(value)

    @property
    def caldav_username(self) -> str:
        return secret_decrypt(self.caldav_username_secret)

    @caldav_username.setter
    def caldav_username(self, value: str) -> None:
        self.caldav_username_secret = secret_encrypt(value)

    @property
    def caldav_password(self) -> str:
        return secret_decrypt(self.caldav_password_secret)

    @caldav_password.setter
    def caldav_password(self, value: str) -> None:
        self.caldav_password_secret = secret_encrypt(value)


class CalendarBusy(models.Model):
    """Time a practitioner's own calendar says they are busy (not our bookings),
    read by the periodic import; no slot is offered over it. Only the times and
    the event's UID are kept: never what the event is about."""

    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        related_name="calendar_busy",
        verbose_name=_("practitioner"),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    uid = models.CharField(_("event UID"), max_length=255, blank=True)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("busy time from a calendar")
        verbose_name_plural = _("busy time from calendars")
        indexes = [
            models.Index(fields=["practitioner", "starts_at"], name="calendar_busy_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="calendar_busy_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} busy {self.starts_at:%Y-%m-%d %H:%M}"


class CalendarSync(OutboxRow):
    """Make one CalDAV calendar match one booking as it is when sent (confirmed:
    the event is there; cancelled or moved to someone else: it is not), through
    the outbox (core.outbox). Written with each change; any number of rows for a
    booking converge on its current state."""

    booking = models.ForeignKey(
        Booking,
        on_delete=models.CASCADE,
        related_name="calendar_syncs",
        verbose_name=_("booking"),
    )
    calendar = models.ForeignKey(
        PractitionerCalendar,
        on_delete=models.CASCADE,
        related_name="syncs",
        verbose_name=_("calendar"),
    )
    # The booking's sequence when the change was written: which change this was.
    sequence = models.PositiveIntegerField(_("change number"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("calendar sync")
        verbose_name_plural = _("calendar syncs")
        indexes = [outbox_due_index("calendar_sync_due_idx")]

    def __str__(self) -> str:
        return f"{self.booking} to {self.calendar}"
