"""The clinic: its locations, practitioners and staff roles.

These models began in the leads app; they keep its table names (leads_location,
leads_practitioner, leads_staffmember), so moving them here copied no rows.
"""

import datetime as dt
import uuid

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.workinghours import opening_hours_check
from core.zones import clinic_zone_names


def clinic_time_zone() -> str:
    """A new location's zone: the clinic's (settings.TIME_ZONE) until changed."""
    zone: str = settings.TIME_ZONE
    return zone


def default_opening_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday 09:00-18:00 and Saturday 10:00-14:00, until the admin says."""
    weekday = [["09:00", "18:00"]]
    return {
        "mon": weekday,
        "tue": weekday,
        "wed": weekday,
        "thu": weekday,
        "fri": weekday,
        "sat": [["10:00", "14:00"]],
    }


def phone_region_check(value: str) -> None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(_("Use a two-letter country code such as TR or GB."))


class Location(models.Model):
    """A clinic site: where patients are seen and whose coordinators see its leads."""

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(_("short name (in links)"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    # Patients read the name in their language; English is `name`.
    name_tr = models.CharField(
        _("name in Turkish"),
        max_length=200,
        blank=True,
        help_text=_("Shown on Turkish pages and emails; empty: the name above."),
    )
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        default="TR",
        validators=[phone_region_check],
        help_text=_(
            "Two-letter code (TR, GB…): phone numbers typed without a country code "
            "are read as this country's."
        ),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=clinic_time_zone
    )
    opening_hours = models.JSONField(
        _("opening hours"),
        default=default_opening_hours,
        help_text=_(
            'Working hours per weekday, e.g. {"mon": [["09:00", "18:00"]]}; a day '
            "left out is closed. First-contact deadlines count only these hours."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "leads_location"
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self) -> str:
        return self.name

    def name_in(self, language: str) -> str:
        """The name patients read in `language` (a language code such as "tr")."""
        return self.name_tr if language[:2] == "tr" and self.name_tr else self.name

    def clean(self) -> None:
        try:
            opening_hours_check(self.opening_hours)
        except (ValueError, TypeError, AttributeError) as problem:
            raise ValidationError({"opening_hours": str(problem)}) from problem
        if self.time_zone not in clinic_zone_names():
            raise ValidationError(
                {"time_zone": _("Use a time zone name such as Europe/Istanbul.")}
            )


class Practitioner(models.Model):
    """Someone who treats patients; bookings are made with a practitioner."""

    class Kind(models.TextChoices):
        PHYSICIAN = "physician", _("Physician")
        AESTHETICIAN = "aesthetician", _("Aesthetic nurse or therapist")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("user account"),
    )
    display_name = models.CharField(_("display name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    locations = models.ManyToManyField(
        Location, related_name="practitioners", verbose_name=_("locations")
    )
    languages = models.JSONField(
        _("languages"), default=list, help_text=_('Language codes, e.g. ["en", "tr"]')
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "leads_practitioner"
        ordering = ["display_name"]
        verbose_name = _("practitioner")
        verbose_name_plural = _("practitioners")

    def __str__(self) -> str:
        return self.display_name


class StaffMember(models.Model):
    """A staff login's role in the clinic and the locations whose leads it may see."""

    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("Coordinator")
        PHYSICIAN = "physician", _("Physician")
        CLINIC_ADMIN = "clinic_admin", _("Clinic admin")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_member",
        verbose_name=_("user account"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    locations = models.ManyToManyField(
        Location, related_name="staff_members", blank=True, verbose_name=_("locations")
    )
    languages = models.JSONField(_("languages"), default=list)
    is_on_duty = models.BooleanField(_("on duty"), default=True)
    # A lead coordinator reassigns leads and hears of leads 30 minutes overdue.
    is_lead_coordinator = models.BooleanField(_("lead coordinator"), default=False)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        db_table = "leads_staffmember"
        indexes = [
            models.Index(
                fields=["role", "is_on_duty"], name="leads_staff_role_501fd1_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


colour_check = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Use a colour such as #a23b52 (# and six hex digits).")
)


# A staff session's limits until the clinic sets its own (ClinicBranding).
STAFF_IDLE_MINUTES_DEFAULT = 30
STAFF_SESSION_HOURS_DEFAULT = 10


class ClinicBranding(models.Model):
    """How the clinic presents itself to patients: one row, edited in the admin.

    Pages and emails read it through clinics.selectors.clinic_branding_get, which
    falls back to settings.CLINIC_NAME while the row is missing or a field is empty.
    """

    name = models.CharField(_("clinic name"), max_length=200, blank=True)
    logo = models.BinaryField(_("logo"), blank=True, default=b"")
    logo_content_type = models.CharField(
        _("logo's content type"), max_length=40, blank=True, editable=False
    )
    colour_accent = models.CharField(
        _("accent colour"),
        max_length=7,
        default="#a23b52",
        validators=[colour_check],
        help_text=_("Buttons and links. It must be dark enough for white text."),
    )
    colour_ink = models.CharField(
        _("text colour"), max_length=7, default="#1f2430", validators=[colour_check]
    )
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email address for patients"), blank=True)
    website = models.URLField(_("website"), blank=True)
    controller = models.TextField(
        _("data controller"),
        blank=True,
        help_text=_("The legal name and address of who is responsible for the data."),
    )
    privacy_contact = models.CharField(
        _("contact for privacy requests"),
        max_length=200,
        blank=True,
        help_text=_("An email address or phone number for access, erasure, consent."),
    )
    retention_months = models.PositiveSmallIntegerField(
        _("months data is kept after the last contact"),
        default=24,
        help_text=_(
            "After this long without a questionnaire or any step taken, a person's "
            "data is erased, keeping only what is counted. 0: kept until erased "
            "by hand."
        ),
    )
    # How long a staff sign-in lasts: from each person's next sign-in.
    staff_idle_minutes = models.PositiveSmallIntegerField(
        _("minutes away before staff are signed out"),
        default=STAFF_IDLE_MINUTES_DEFAULT,
        validators=[MinValueValidator(5), MaxValueValidator(480)],
        help_text=_("From 5 to 480. A page refreshing itself does not count."),
    )
    staff_session_hours = models.PositiveSmallIntegerField(
        _("hours a staff sign-in lasts at most"),
        default=STAFF_SESSION_HOURS_DEFAULT,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text=_("From 1 to 24, however busy the person is."),
    )
    privacy_notice_en = models.TextField(
        _("privacy notice (English)"),
        blank=True,
        help_text=_("Shown before consent, after the standard notice."),
    )
    privacy_notice_tr = models.TextField(_("privacy notice (Turkish)"), blank=True)
    privacy_notice_version = models.CharField(
        _("privacy notice version"),
        max_length=20,
        blank=True,
        help_text=_(
            "Change it (e.g. to today's date) whenever the notice changes: each "
            "consent records the version it was given under."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("clinic branding")
        verbose_name_plural = _("clinic branding")

    def __str__(self) -> str:
        return self.name or str(settings.CLINIC_NAME)


class ApiToken(models.Model):
    """A staff login's key to the API (`Authorization: Token <key>`), with an end.

    The row keeps the key's SHA-256 and its non-secret prefix, never the key, which
    is shown once when it is made (clinics.services.api_token_create). A token works
    until it expires or is revoked, whichever comes first.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user account"),
    )
    name = models.CharField(
        _("name"),
        max_length=100,
        help_text=_('What it is for, e.g. "Zapier" or "reporting".'),
    )
    prefix = models.CharField(
        _("prefix"),
        max_length=8,
        unique=True,
        editable=False,
        help_text=_("The start of the key, to recognise it; not secret."),
    )
    key_digest = models.CharField(_("key digest"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="clinics_apitoken_expires_after_created",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def status(self) -> "ApiToken.Status":
        """The token's status now."""
        return self.status_at(timezone.now())

    def status_at(self, now: dt.datetime) -> "ApiToken.Status":
        """Revoked, expired (at `now`) or active: the first that holds."""
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at <= now:
            return self.Status.EXPIRED
        return self.Status.ACTIVE
