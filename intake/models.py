"""Questionnaires (versioned data), drafts, submissions and their health-data audit.

Health answers are stored only as ciphertext (see intake.encryption); contact details
stay in plain columns because coordinators search and match on them.
"""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField
from core.models import OutboxRow, outbox_due_index


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class PublishedVersionImmutable(Exception):
    """A published or retired version was about to be changed in place."""


class ImmutableOncePublished(models.Model):
    """A numbered version of a definition whose content freezes once it leaves draft.

    Status may still move (published -> retired); the content never does, so
    everything that points at a version keeps meaning what it meant.
    """

    frozen_fields: tuple[str, ...] = ("definition", "number")

    number = models.PositiveIntegerField(_("version number"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=VersionStatus.choices,
        default=VersionStatus.DRAFT,
    )
    definition = models.JSONField(_("definition"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # SHA-256 of the shipped file this version was loaded from; empty when an admin
    # made it. The loader never replaces an admin's published version on its own.
    imported_digest = models.CharField(
        _("digest of the imported file"), max_length=64, blank=True, db_index=True
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # One read on save (rare) rather than a copy of the definition on every load.
        stored = (
            type(self)
            ._default_manager.filter(pk=self.pk)
            .values("status", *self.frozen_fields)
            .first()
            if self.pk
            else None
        )
        if stored is not None and stored["status"] != VersionStatus.DRAFT:
            changed = [
                name
                for name in self.frozen_fields
                if getattr(self, name) != stored[name]
            ]
            if changed:
                raise PublishedVersionImmutable(
                    f"{self} is {stored['status']}: {', '.join(changed)} cannot "
                    "change. Create a new draft version instead."
                )
        super().save(*args, **kwargs)


class Questionnaire(models.Model):
    """A questionnaire by its stable slug; its content lives in versions."""

    slug = models.SlugField(_("short name"), unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")

    def __str__(self) -> str:
        return self.slug


class QuestionnaireVersion(ImmutableOncePublished):
    """One version of a questionnaire's definition (FHIR Questionnaire concepts)."""

    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("questionnaire"),
    )

    class Meta:
        ordering = ["questionnaire", "-number"]
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="questionnaire_version_number"
            ),
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=models.Q(status="published"),
                name="one_published_questionnaire_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire_id and self.questionnaire.slug} v{self.number}"


class IntakeDraft(models.Model):
    """A questionnaire in progress, kept server-side so a person can resume it.

    Created only after health-data consent; answers are ciphertext. Deleted when
    submitted or after settings.INTAKE_DRAFT_DAYS.
    """

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    questionnaire_version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        related_name="drafts",
        verbose_name=_("questionnaire version"),
    )
    language = models.CharField(_("language"), max_length=8)
    answers_ciphertext = models.TextField(_("answers (encrypted)"))
    step_reached = models.PositiveSmallIntegerField(_("step reached"), default=1)
    # Someone under 18 who asked a coordinator to call first: only the first and the
    # last step are asked; screening then sends every treatment to review.
    contact_first = models.BooleanField(_("coordinator to call first"), default=False)
    consent_health_at = models.DateTimeField(_("health data consent given at"))
    privacy_notice_version = models.CharField(
        _("privacy notice version"), max_length=40
    )
    source = models.JSONField(_("source"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Part of the signed resume link; a new one is drawn when a link is used, so an
    # emailed link opens the draft once.
    resume_nonce = models.UUIDField(_("resume link nonce"), default=uuid.uuid4)
    # When the person last asked for the link: one email per interval per draft.
    resume_requested_at = models.DateTimeField(
        _("resume link requested at"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("questionnaire draft")
        verbose_name_plural = _("questionnaire drafts")
        indexes = [models.Index(fields=["updated_at"])]

    def __str__(self) -> str:
        return f"Draft {self.code}"


class ResumeEmail(OutboxRow):
    """The link to resume a draft, emailed through the outbox (core.outbox): one row
    per request the interval allowed, deleted with its draft."""

    draft = models.ForeignKey(
        IntakeDraft,
        on_delete=models.CASCADE,
        related_name="resume_emails",
        verbose_name=_("draft"),
    )
    to = models.EmailField(_("recipient"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("resume link email")
        verbose_name_plural = _("resume link emails")
        indexes = [outbox_due_index("resume_email_due_idx")]

    def __str__(self) -> str:
        return f"Resume link for {self.draft}"


class Submission(models.Model):
    """A completed questionnaire: the exact version, answers, contact and consent."""

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    questionnaire_version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        related_name="submissions",
        verbose_name=_("questionnaire version"),
    )
    # A form submit uses its draft's code, an API client its Idempotency-Key: a
    # second request with the same key finds this row instead of making another.
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=100, unique=True
    )
    # SHA-256 of what an API client sent with its key: the same key with other answers
    # is refused instead of returning this submission.
    request_digest = models.CharField(_("request digest"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=8)
    full_name = models.CharField(_("full name"), max_length=200)
    birth_date = models.DateField(_("date of birth"))
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=20, help_text=_("E.164"))
    preferred_language = models.CharField(_("preferred language"), max_length=8)
    location = models.ForeignKey(
        "clinics.Location",
        on_delete=models.PROTECT,
        related_name="submissions",
        verbose_name=_("location"),
    )
    contact_channel = models.CharField(_("contact channel"), max_length=20)
    contact_times = models.JSONField(_("contact times"), default=list)
    health_answers_ciphertext = models.TextField(_("health answers (encrypted)"))
    consent_health_at = models.DateTimeField(_("health data consent given at"))
    privacy_notice_version = models.CharField(
        _("privacy notice version"), max_length=40
    )
    consent_marketing = models.BooleanField(_("marketing consent"), default=False)
    consent_marketing_at = models.DateTimeField(
        _("marketing consent given at"), null=True, blank=True
    )
    source = models.JSONField(_("source"), default=dict, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    # Set when the person's data was erased: what is left is for counting.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        indexes = [
            models.Index(fields=["email"]),
            models.Index(fields=["phone"]),
            models.Index(fields=["-submitted_at", "-id"]),
        ]

    def __str__(self) -> str:
        return f"Submission {self.code}"


class TriggerTally(models.Model):
    """How many questionnaires of a location and day named each redness trigger:
    the funnel's "by trigger" without reading anyone's answers. It holds no person,
    so erasing one leaves it as it is."""

    location = models.ForeignKey(
        "clinics.Location",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("location"),
    )
    day = models.DateField(_("day"))
    trigger = models.CharField(_("trigger"), max_length=40)
    submissions = models.PositiveIntegerField(_("number of questionnaires"), default=0)

    class Meta:
        verbose_name = _("trigger tally")
        verbose_name_plural = _("trigger tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["location", "day", "trigger"], name="trigger_tally_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.trigger}: {self.submissions}"


class SubmissionPhoto(models.Model):
    """A photo of the area: re-encoded without metadata, encrypted, staff-only."""

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    draft = models.ForeignKey(
        IntakeDraft,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="photos",
        verbose_name=_("draft"),
    )
    submission = models.ForeignKey(
        Submission,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="photos",
        verbose_name=_("submission"),
    )
    content_type = models.CharField(_("content type"), max_length=40)
    content_ciphertext = models.BinaryField(_("content (encrypted)"))
    width = models.PositiveIntegerField(_("width (pixels)"))
    height = models.PositiveIntegerField(_("height (pixels)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("submission photo")
        verbose_name_plural = _("submission photos")

    def __str__(self) -> str:
        return f"Photo {self.code}"


class HealthDataAccess(models.Model):
    """An audit row: a staff member read a submission's health data."""

    class What(models.TextChoices):
        ANSWERS = "answers", _("Health answers")
        FHIR_EXPORT = "fhir_export", _("FHIR export")
        SCREENING = "screening", _("Screening result")
        PHOTO = "photo", _("Photo")
        DRY_RUN = "dry_run", _("Outcome change in a rule dry run")
        PERSONAL_EXPORT = "personal_export", _("Copy of a person's data")

    # Kept when the submission is erased: the trail of who read it outlives it.
    submission = models.ForeignKey(
        Submission,
        null=True,
        on_delete=models.SET_NULL,
        related_name="health_data_accesses",
        verbose_name=_("submission"),
    )
    submission_code = models.UUIDField(_("submission code"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    what = models.CharField(_("what was read"), max_length=20, choices=What.choices)
    accessed_at = models.DateTimeField(_("accessed at"), auto_now_add=True)

    class Meta:
        ordering = ["-accessed_at"]
        indexes = [models.Index(fields=["submission", "-accessed_at"])]
        verbose_name = _("health data access")
        verbose_name_plural = _("health data accesses")

    def __str__(self) -> str:
        return f"{self.user_id} read {self.what} of {self.submission_id}"


class ScreeningRuleSet(models.Model):
    """A named set of screening rules; its content lives in versions."""

    slug = models.SlugField(_("short name"), unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("screening rule set")
        verbose_name_plural = _("screening rule sets")

    def __str__(self) -> str:
        return self.slug


class ScreeningRuleSetVersion(ImmutableOncePublished):
    """One version of a rule set (the rule file's data, see docs/screening.md)."""

    rule_set = models.ForeignKey(
        ScreeningRuleSet,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("rule set"),
    )

    class Meta:
        ordering = ["rule_set", "-number"]
        verbose_name = _("screening rule set version")
        verbose_name_plural = _("screening rule set versions")
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "number"], name="rule_set_version_number"
            ),
            models.UniqueConstraint(
                fields=["rule_set"],
                condition=models.Q(status="published"),
                name="one_published_rule_set_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_set_id and self.rule_set.slug} v{self.number}"


class ScreeningResult(models.Model):
    """A stored evaluation of one submission against one rule-set version.

    Kept forever so that an outcome can be explained later; a re-evaluation adds
    a row and moves `is_current`, it never rewrites an old one.
    """

    submission = models.ForeignKey(
        Submission,
        on_delete=models.CASCADE,
        related_name="screening_results",
        verbose_name=_("submission"),
    )
    rule_set_version = models.ForeignKey(
        ScreeningRuleSetVersion,
        on_delete=models.PROTECT,
        related_name="results",
        verbose_name=_("rule set version"),
    )
    is_current = models.BooleanField(_("current"), default=True)
    evaluated_on = models.DateField(_("evaluation date"))
    evaluated_at = models.DateTimeField(_("evaluated at"), auto_now_add=True)
    # Treatment code -> outcome, in plain text: routing and queue filters read it.
    outcomes = models.JSONField(_("outcomes"))
    # The contraindicated treatments on which a physician decides: until one has,
    # their effective outcome is `review` (the physician's queue), never bookable.
    physician_decides = models.JSONField(
        _("treatments a physician decides on"), default=list
    )
    # Deferred treatment -> the ISO day it may be booked from (a deferral with an
    # end date and nothing else in the way); booking reads it in plain text too.
    bookable_from = models.JSONField(_("bookable from"), default=dict)
    # The full result (fired rules, the answers that fired them, profiles).
    detail_ciphertext = models.TextField(_("details (encrypted)"))

    class Meta:
        ordering = ["-evaluated_at", "-id"]
        verbose_name = _("screening result")
        verbose_name_plural = _("screening results")
        constraints = [
            models.UniqueConstraint(
                fields=["submission"],
                condition=models.Q(is_current=True),
                name="one_current_screening_result",
            )
        ]

    def __str__(self) -> str:
        return f"Screening of {self.submission_id} ({self.rule_set_version})"


class ScreeningOverride(models.Model):
    """A physician's decision on one treatment, which wins over the rule outcome."""

    class Decision(models.TextChoices):
        CLEARED = "cleared", _("Cleared: may be booked")
        DECLINED = "declined", _("Declined: not offered")

    submission = models.ForeignKey(
        Submission,
        on_delete=models.CASCADE,
        related_name="screening_overrides",
        verbose_name=_("submission"),
    )
    # The result decided on: a re-evaluation starts afresh, without old decisions.
    screening_result = models.ForeignKey(
        ScreeningResult,
        on_delete=models.PROTECT,
        related_name="overrides",
        verbose_name=_("screening result"),
    )
    treatment = models.CharField(_("treatment"), max_length=40)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    # The physician's reasoning about a patient: encrypted like the answers.
    note = EncryptedTextField(_("note"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("physician decision")
        verbose_name_plural = _("physician decisions")
        indexes = [models.Index(fields=["submission", "treatment", "-decided_at"])]

    def __str__(self) -> str:
        return f"{self.treatment}: {self.decision}"
