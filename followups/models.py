"""Follow-up sequences the clinic edits, their templates, and the messages they make.

A message is a row per lead, step and occurrence (the timeline event that caused
it), unique, so it can never be made twice; it is sent through the outbox engine
(core.outbox) like every email here.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import OutboxRow, outbox_due_index
from leads.models import Lead


class Trigger(models.TextChoices):
    """What starts a sequence: an event on the lead's timeline."""

    SUBMISSION_RECEIVED = "submission_received", _("Questionnaire received")
    PHYSICIAN_CLEARED = "physician_cleared", _("A physician cleared a treatment")
    PHYSICIAN_DECLINED = "physician_declined", _("A physician declined a treatment")
    LEAD_LOST = "lead_lost", _("Lead lost")
    BOOKING_MADE = "booking_made", _("Booking made")
    BOOKING_RESCHEDULED = "booking_rescheduled", _("Booking moved")
    BOOKING_CANCELLED = "booking_cancelled", _("Booking cancelled")
    VISIT_BOOKED = "visit_booked", _("Visit booked (steps count from its start)")
    SESSION_ATTENDED = (
        "session_attended",
        _("Session attended (steps count from its start)"),
    )
    SENT_BY_STAFF = "sent_by_staff", _("Sent by staff from the lead page")
    MAINTENANCE_DUE = (
        "maintenance_due",
        _("A course's maintenance window opens (steps count from its first day)"),
    )


class Category(models.TextChoices):
    TRANSACTIONAL = "transactional", _("Transactional (about what the person asked)")
    MARKETING = "marketing", _("Marketing (needs marketing consent)")


class MessageTemplate(models.Model):
    """One message in one language: subject, plain text and HTML, in the sandboxed
    template language of followups.rendering."""

    key = models.SlugField(
        _("template"),
        max_length=60,
        help_text=_("The name steps use, the same for each language."),
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(
        _("subject"),
        max_length=200,
        help_text=_("Never a health detail: subjects show on lock screens."),
    )
    text_body = models.TextField(_("plain-text part"))
    html_body = models.TextField(_("HTML part"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["key", "language"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(
                fields=["key", "language"], name="message_template_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.language})"


class Sequence(models.Model):
    """Messages that follow one trigger, step by step."""

    name = models.CharField(_("name"), max_length=120)
    trigger = models.CharField(_("trigger"), max_length=40, choices=Trigger.choices)
    category = models.CharField(
        _("category"),
        max_length=20,
        choices=Category.choices,
        default=Category.TRANSACTIONAL,
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Conditions, checked before each timed step.
    only_if_bookable = models.BooleanField(
        _("only while the person may book online"),
        default=False,
        help_text=_("For nudges to use the booking link: skipped when screening "
                    "leaves nothing to book online."),
    )  # fmt: skip
    only_language = models.CharField(
        _("only in this language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: every language."),
    )
    only_status = models.CharField(
        _("only while the lead's status is"),
        max_length=20,
        choices=Lead.Status.choices,
        blank=True,
        help_text=_("Empty: any status."),
    )
    only_outcome = models.CharField(
        _("only while a treatment's screening outcome is"),
        max_length=20,
        choices=[
            ("eligible", _("eligible")),
            ("review", _("waiting for a physician")),
            ("deferred", _("deferred")),
            ("contraindicated", _("not offered")),
        ],
        blank=True,
        help_text=_("Of the treatments the person asked about. Empty: any."),
    )
    only_mid_course = models.BooleanField(
        _("only while the course has sessions to come"),
        default=False,
        help_text=_("For a session's sequence: skipped after a course's last "
                    "session, or a single appointment."),
    )  # fmt: skip
    # What stops it (an address that asked to stop always does).
    stop_when_booked = models.BooleanField(_("stops once booked"), default=True)
    stop_when_lost = models.BooleanField(_("stops when the lead is lost"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sequence")
        verbose_name_plural = _("sequences")

    def __str__(self) -> str:
        return self.name


class Step(models.Model):
    """One message of a sequence: which template, and how long after the trigger."""

    sequence = models.ForeignKey(
        Sequence,
        on_delete=models.CASCADE,
        related_name="steps",
        verbose_name=_("sequence"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    template_key = models.SlugField(
        _("template"),
        max_length=60,
        help_text=_("A message template's name; it must exist in every language."),
    )
    delay_minutes = models.IntegerField(
        _("after (minutes)"),
        default=0,
        help_text=_(
            "From the trigger; for a visit, from its start (negative: before it, "
            "e.g. -1440 for a day before). 0: at once."
        ),
    )

    class Meta:
        ordering = ["sequence", "position", "pk"]
        verbose_name = _("step")
        verbose_name_plural = _("steps")

    def __str__(self) -> str:
        return f"{self.sequence}: {self.template_key}"


class Enrollment(models.Model):
    """A lead on its way through one sequence's timed steps, since one event.

    The periodic scheduler (followups.services.followup_schedule_due) picks the due
    ones by index, a batch at a time with SELECT ... FOR UPDATE SKIP LOCKED, so two
    schedulers never take the same; it checks what stops the sequence, makes the
    step's message, and sets the next step's time."""

    lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.CASCADE,
        related_name="followup_enrollments",
        verbose_name=_("lead"),
    )
    sequence = models.ForeignKey(
        Sequence,
        on_delete=models.CASCADE,
        related_name="enrollments",
        verbose_name=_("sequence"),
    )
    event = models.ForeignKey(
        "leads.LeadEvent",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("timeline event"),
    )
    # The visit a visit's sequence is about.
    booking = models.ForeignKey(
        "booking.Booking",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("booking"),
    )
    # What started it, once: "event:<id>", or "booking:<id>:<its sequence>" (a
    # moved visit starts its reminders again, for the new time).
    occurrence = models.CharField(_("occurrence"), max_length=80)
    anchor_at = models.DateTimeField(
        _("steps count from")
    )  # the steps' delays count from here
    position = models.PositiveSmallIntegerField(
        _("next step"), default=0
    )  # the next step's index
    next_due_at = models.DateTimeField(_("next step due at"), null=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    stopped_because = models.CharField(_("stopped because"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "sequence", "occurrence"],
                name="followup_enrollment_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_due_at"],
                condition=models.Q(finished_at__isnull=True),
                name="followup_enrollment_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id} in {self.sequence}"


class FollowUpMessage(OutboxRow):
    """One message to one lead, for one step and one occurrence of its trigger:
    never made twice (the unique key), sent at least once and never concurrently
    (core.outbox). The same Message-ID on every attempt lets a receiver drop a
    duplicate."""

    lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.CASCADE,
        related_name="followup_messages",
        verbose_name=_("lead"),
    )
    step = models.ForeignKey(
        Step, on_delete=models.PROTECT, related_name="messages", verbose_name=_("step")
    )
    # The timeline event that caused it (a submission received, a booking made).
    event = models.ForeignKey(
        "leads.LeadEvent",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("timeline event"),
    )
    booking = models.ForeignKey(
        "booking.Booking",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("booking"),
    )
    occurrence = models.CharField(_("occurrence"), max_length=80)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    message_id = models.CharField(
        _("message ID (email header)"), max_length=200, blank=True
    )
    # The mail provider's own id (django-anymail), which its webhooks name.
    provider_message_id = models.CharField(
        _("mail provider's message ID"), max_length=200, blank=True
    )
    bounced_at = models.DateTimeField(_("bounced at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("follow-up message")
        verbose_name_plural = _("follow-up messages")
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "step", "occurrence"], name="followup_message_once"
            )
        ]
        indexes = [
            outbox_due_index("followup_message_due_idx"),
            models.Index(fields=["lead", "created_at"], name="followup_lead_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.step} to lead {self.lead_id}"


class Suppression(models.Model):
    """An address that asked to stop (or whose mail bounces): follow-ups skip it.

    Keyed by the lead's email key (leads.matching), so a differently written copy
    of the same address is stopped too."""

    class Scope(models.TextChoices):
        MARKETING = "marketing", _("Offers and news only")
        ALL = "all", _("Every automated follow-up")

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")

    email_key = models.CharField(
        _("email key (for matching)"), max_length=254, unique=True
    )
    scope = models.CharField(
        _("scope"), max_length=12, choices=Scope.choices, default=Scope.ALL
    )
    reason = models.CharField(
        _("reason"), max_length=12, choices=Reason.choices, default=Reason.UNSUBSCRIBED
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")

    def __str__(self) -> str:
        return f"{self.get_scope_display()}: {self.get_reason_display()}"
