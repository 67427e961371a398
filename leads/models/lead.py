import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import Location
from core.fields import EncryptedTextField


class Lead(models.Model):
    """One person's enquiry: contact, score, owner, status and first-contact deadline.

    A person has at most one open lead; their later submissions join it.
    """

    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        QUALIFIED = "qualified", _("Qualified")
        AWAITING_REVIEW = "awaiting_review", _("Awaiting physician review")
        BOOKED = "booked", _("Booked")
        IN_TREATMENT = "in_treatment", _("In treatment")
        COMPLETED = "completed", _("Completed")
        LOST = "lost", _("Lost")
        DISQUALIFIED = "disqualified", _("Disqualified")

    class Priority(models.TextChoices):
        HIGH = "high", _("High")
        NORMAL = "normal", _("Normal")
        LOW = "low", _("Low")

    class LostReason(models.TextChoices):
        UNREACHABLE = "unreachable", _("Could not be reached")
        NOT_INTERESTED = "not_interested", _("No longer interested")
        PRICE = "price", _("Price")
        TIMING = "timing", _("Timing does not suit")
        OTHER_CLINIC = "other_clinic", _("Chose another clinic")
        DISTANCE = "distance", _("Too far away")
        OTHER = "other", _("Other")
        ERASED = "erased", _("Asked for their data to be erased")

    class Escalation(models.IntegerChoices):
        NONE = 0, _("On time")
        OVERDUE = 1, _("Overdue: owner reminded")
        LEAD_COORDINATOR = 2, _("Escalated to the lead coordinator")
        CLINIC_ADMIN = 3, _("Escalated to the clinic admin")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: lead_location_due_idx and lead_location_created_idx
    # start with it. A lone one tempted the planner to AND half the table's rows
    # into a name search's few trigram matches.
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        related_name="leads",
        verbose_name=_("location"),
        db_index=False,
    )
    full_name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("email"))
    # The email as matching sees it (see leads.matching.email_key).
    email_key = models.CharField(_("email key (for matching)"), max_length=254)
    phone = models.CharField(_("phone"), max_length=20, help_text=_("E.164"))
    preferred_language = models.CharField(_("preferred language"), max_length=8)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    lost_reason = models.CharField(
        _("reason lost"), max_length=20, choices=LostReason.choices, blank=True
    )
    status_changed_at = models.DateTimeField(
        _("status changed at"), default=timezone.now
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    score = models.SmallIntegerField(_("score"), default=0)
    # [{"factor": ..., "points": ..., "detail": ...}]: why the score is what it is.
    score_parts = models.JSONField(_("score details"), default=list)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
        verbose_name=_("owner"),
    )
    first_contact_due_at = models.DateTimeField(_("first contact due at"))
    first_contacted_at = models.DateTimeField(
        _("first contacted at"), null=True, blank=True
    )
    escalation = models.SmallIntegerField(
        _("escalation"), choices=Escalation.choices, default=Escalation.NONE
    )
    # Same phone, other name: a coordinator decides whether to merge.
    match_uncertain_with = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("possible duplicate of"),
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_leads",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_submitted_at = models.DateTimeField(
        _("last questionnaire at"), default=timezone.now
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            # Orderings the list offers, each unique with the id for keyset paging.
            models.Index(fields=["created_at", "id"], name="lead_created_idx"),
            models.Index(fields=["first_contact_due_at", "id"], name="lead_due_idx"),
            models.Index(fields=["score", "id"], name="lead_score_idx"),
            # A coordinator's queue: their location, in the two usual orders.
            models.Index(
                fields=["location", "first_contact_due_at", "id"],
                name="lead_location_due_idx",
            ),
            models.Index(
                fields=["location", "created_at", "id"],
                name="lead_location_created_idx",
            ),
            models.Index(fields=["status", "created_at"], name="lead_status_idx"),
            # The queue's counts per status (staff.selectors.status_counts): an
            # index-only scan of a location's open leads, not their table rows.
            models.Index(
                fields=["location", "status"],
                condition=Q(merged_into__isnull=True),
                name="lead_location_status_idx",
            ),
            models.Index(fields=["priority", "created_at"], name="lead_priority_idx"),
            models.Index(
                fields=["first_contact_due_at"],
                condition=Q(first_contacted_at__isnull=True),
                name="lead_awaiting_contact_idx",
            ),
            models.Index(fields=["email_key"], name="lead_email_key_idx"),
            models.Index(fields=["phone"], name="lead_phone_idx"),
            models.Index(
                fields=["match_uncertain_with"],
                condition=Q(match_uncertain_with__isnull=False),
                name="lead_match_uncertain_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="lost", lost_reason__gt="")
                | (~Q(status="lost") & Q(lost_reason="")),
                name="lead_lost_has_reason",
            ),
        ]
        permissions = [("export_lead", "Can export leads as CSV")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.get_status_display()})"

    @property
    def reference(self) -> str:
        """How messages that must not name the person name the lead: "L-1A2B3C4D"."""
        return lead_reference(self.code)


def lead_reference(code: uuid.UUID) -> str:
    """The reference of the lead with this code (Lead.reference)."""
    return f"L-{code.hex[:8].upper()}"


class LeadTreatment(models.Model):
    """A treatment the person asked about and its screening outcome for this lead.

    Kept in step with the newest submission's effective screening outcome, so that
    the queue filters by treatment and outcome with an index.
    """

    lead = models.ForeignKey(
        Lead,
        on_delete=models.CASCADE,
        related_name="treatments",
        verbose_name=_("lead"),
    )
    treatment = models.CharField(_("treatment"), max_length=40)
    outcome = models.CharField(_("screening outcome"), max_length=20)
    # A deferred treatment's first bookable day, when its deferral has an end date.
    bookable_from = models.DateField(_("bookable from"), null=True, blank=True)

    class Meta:
        verbose_name = _("lead treatment")
        verbose_name_plural = _("lead treatments")
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "treatment"], name="lead_treatment_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["treatment", "outcome", "lead"], name="lead_treatment_idx"
            ),
            models.Index(fields=["outcome", "lead"], name="lead_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.treatment}: {self.outcome}"


class LeadEvent(models.Model):
    """One line of a lead's timeline: who did what, when. Never edited."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Questionnaire submitted")
        CREATED = "created", _("Lead created")
        STATUS_CHANGED = "status_changed", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        NOTE = "note", _("Note")
        CALL = "call", _("Call")
        EMAIL_SENT = "email_sent", _("Email sent")
        BOOKING = "booking", _("Booking")
        PHYSICIAN_DECISION = "physician_decision", _("Physician decision")
        SCREENING_REEVALUATED = "screening_reevaluated", _("Answers evaluated again")
        MATCH_UNCERTAIN = "match_uncertain", _("Possible duplicate")
        MERGED = "merged", _("Merged")
        ESCALATED = "escalated", _("Escalated")
        TASK = "task", _("Task for a coordinator")
        EMAIL_UNDELIVERABLE = "email_undeliverable", _("Email undeliverable")
        ERASED = "erased", _("Personal data erased")

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="events", verbose_name=_("lead")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("done by"),
    )
    submission = models.ForeignKey(
        "intake.Submission",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lead_events",
        verbose_name=_("submission"),
    )
    # Words a person wrote (a note, a call summary), encrypted like the health
    # answers; never the questionnaire's answers themselves.
    text = EncryptedTextField(_("text"), blank=True)
    # Codes, not prose: {"from": "new", "to": "contacted"}, {"outcome": "reached"}.
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes = [
            models.Index(fields=["lead", "created_at", "id"], name="lead_event_idx")
        ]
        constraints = [
            # A submission joins one lead, once: handing it over twice is harmless.
            models.UniqueConstraint(
                fields=["submission"],
                condition=Q(kind="submitted"),
                name="lead_event_submission_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M}"


class LeadTask(models.Model):
    """Something a coordinator must do for a lead, e.g. tell a patient kindly."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("lead")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lead_tasks",
        verbose_name=_("assignee"),
    )
    title = models.CharField(_("title"), max_length=300)
    due_at = models.DateTimeField(_("due at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("lead task")
        verbose_name_plural = _("lead tasks")
        indexes = [
            models.Index(
                fields=["assignee", "due_at"],
                condition=Q(done_at__isnull=True),
                name="lead_task_open_idx",
            )
        ]

    def __str__(self) -> str:
        return self.title


class PersonalDataErasure(models.Model):
    """The record that a person's data was erased: which lead (kept, blank, for
    counting), why, by whom, when, and how many rows of each kind changed."""

    class Reason(models.TextChoices):
        REQUEST = "request", _("The person asked")
        RETENTION = "retention", _("Kept for as long as the clinic keeps data")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")

    lead = models.ForeignKey(
        Lead,
        on_delete=models.PROTECT,
        related_name="erasures",
        verbose_name=_("lead"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("erased by"),
    )
    erased_at = models.DateTimeField(_("erased at"), default=timezone.now)
    # {"intake": {"photos": 2, ...}, "leads": {...}}: what each app changed.
    changed = models.JSONField(_("rows changed"), default=dict)

    class Meta:
        ordering = ["-erased_at", "-id"]
        verbose_name = _("personal data erasure")
        verbose_name_plural = _("personal data erasures")

    def __str__(self) -> str:
        return f"{self.lead.reference} erased at {self.erased_at:%Y-%m-%d %H:%M}"


class PrivacyRequest(models.Model):
    """A person asked, through their signed link, for a copy of their data or for
    its erasure: the clinic admin answers within a month (GDPR art. 12(3))."""

    class Kind(models.TextChoices):
        COPY = "copy", _("A copy of their data")
        ERASURE = "erasure", _("Erasure of their data")

    lead = models.ForeignKey(
        Lead,
        on_delete=models.PROTECT,
        related_name="privacy_requests",
        verbose_name=_("lead"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    requested_at = models.DateTimeField(_("asked at"), default=timezone.now)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("handled by"),
    )

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        indexes = [
            models.Index(
                fields=["requested_at"],
                condition=Q(handled_at__isnull=True),
                name="privacy_request_open_idx",
            )
        ]
        constraints = [
            # Asking again while the first is open is the same request.
            models.UniqueConstraint(
                fields=["lead", "kind"],
                condition=Q(handled_at__isnull=True),
                name="privacy_request_open_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.lead.reference}"
