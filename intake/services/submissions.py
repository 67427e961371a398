"""Drafts and submissions: consent first, validated answers, once per key."""

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import BusinessError
from core.queueing import enqueue_on_commit
from intake.encryption import health_bytes_encrypt, health_data_encrypt
from intake.models import (
    IntakeDraft,
    QuestionnaireVersion,
    Submission,
    SubmissionPhoto,
)
from intake.photos import PreparedPhoto
from intake.questionnaires.definition import CONTACT_LINK_IDS, answers_prune
from intake.selectors import (
    intake_draft_answers,
    location_list_active,
    questionnaire_definition_get,
    questionnaire_version_get_published,
)
from intake.services.screening import screening_result_record
from intake.tasks import intake_draft_resume_email_task
from intake.throttling import submission_rate_limit_check
from intake.validators import answers_clean, consent_message
from leads.services.leads import lead_submission_add

RESUME_SALT = "intake.resume"
# Between two resume emails for one draft: the form cannot be used to flood an inbox.
RESUME_EMAIL_INTERVAL = dt.timedelta(minutes=5)


class AnswersInvalid(BusinessError):
    code = "invalid"


class DraftGone(BusinessError):
    code = "draft_gone"


class IdempotencyKeyReused(BusinessError):
    code = "idempotency_key_reused"
    status_code = 409


class ResumeEmailTooSoon(BusinessError):
    code = "resume_email_too_soon"
    status_code = 429


class SubmittedTooFast(BusinessError):
    code = "too_fast"


@dataclass(frozen=True)
class SubmissionOutcome:
    """The submission a request made or found again, and which of the two."""

    submission: Submission
    created: bool


def intake_draft_start(
    *, language: str, consent_health: bool, source: Mapping[str, str]
) -> IntakeDraft:
    """Begin a questionnaire once the person has consented to health-data processing.

    Without consent nothing is stored: AnswersInvalid names the consent field.
    """
    version = questionnaire_version_get_published()
    definition = questionnaire_definition_get(version)
    if not consent_health:
        raise AnswersInvalid(
            _("Please give your consent to go on."),
            fields={"consent_health": [consent_message()]},
        )
    return IntakeDraft.objects.create(
        questionnaire_version=version,
        language=language,
        answers_ciphertext=health_data_encrypt({}),
        consent_health_at=timezone.now(),
        privacy_notice_version=definition.privacy_notice_version,
        source=dict(source),
    )


def intake_draft_answers_save(
    *, draft: IntakeDraft, answers: Mapping[str, Any], step_reached: int
) -> None:
    """Merge one step's answers into the draft (re-encrypted as a whole).

    DraftGone when the draft was submitted meanwhile (a second click on "Send").
    """
    definition = questionnaire_definition_get(draft.questionnaire_version)
    merged = {**intake_draft_answers(draft), **answers}
    draft.answers_ciphertext = health_data_encrypt(answers_prune(definition, merged))
    draft.step_reached = max(draft.step_reached, step_reached)
    saved = IntakeDraft.objects.filter(pk=draft.pk).update(
        answers_ciphertext=draft.answers_ciphertext,
        step_reached=draft.step_reached,
        updated_at=timezone.now(),
    )
    if not saved:
        raise DraftGone("This questionnaire was already sent.")


def submission_create(
    *,
    version: QuestionnaireVersion,
    language: str,
    answers: Mapping[str, Any],
    idempotency_key: str,
    source: Mapping[str, str],
    consent_health_at: dt.datetime | None = None,
    photos: Sequence[PreparedPhoto] = (),
    draft: IntakeDraft | None = None,
    request_digest: str = "",
) -> SubmissionOutcome:
    """Store a complete questionnaire once per idempotency key.

    The same key again returns the first submission (created=False) and stores
    nothing more. Invalid answers, a missing consent above all, store nothing.
    """
    existing = Submission.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _replayed(existing, request_digest)

    definition = questionnaire_definition_get(version)
    locations = {location.slug: location for location in location_list_active()}
    today = timezone.localdate()
    cleaned = answers_clean(
        definition,
        answers,
        location_codes=list(locations),
        today=today,
    )
    if cleaned.errors:
        raise AnswersInvalid(
            _("Some answers need another look."), fields=cleaned.errors
        )
    values = cleaned.values
    health = {k: v for k, v in values.items() if k not in CONTACT_LINK_IDS}
    now = timezone.now()
    try:
        with transaction.atomic(durable=True):
            submission = Submission.objects.create(
                questionnaire_version=version,
                idempotency_key=idempotency_key,
                language=language,
                full_name=values["full_name"],
                birth_date=dt.date.fromisoformat(values["birth_date"]),
                email=values["email"],
                phone=values["phone"],
                preferred_language=values["preferred_language"],
                location=locations[values["location"]],
                contact_channel=values["contact_channel"],
                contact_times=values["contact_times"],
                health_answers_ciphertext=health_data_encrypt(health),
                consent_health_at=consent_health_at or now,
                privacy_notice_version=definition.privacy_notice_version,
                consent_marketing=bool(values.get("consent_marketing")),
                consent_marketing_at=now if values.get("consent_marketing") else None,
                source=dict(source),
                request_digest=request_digest,
            )
            if draft is not None:
                draft.photos.update(draft=None, submission=submission)
                draft.delete()
            for photo in photos:
                photo_store(submission=submission, photo=photo)
            screening = screening_result_record(
                submission=submission, answers=health, today=today
            )
            lead_submission_add(
                submission=submission, answers=health, screening=screening
            )
    except IntegrityError:
        # Another request with the same key won the race: that one is the submission.
        existing = Submission.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _replayed(existing, request_digest)
    return SubmissionOutcome(submission, created=True)


def _replayed(existing: Submission, request_digest: str) -> SubmissionOutcome:
    """The first submission made with a key, for a repeat of the same request only."""
    if existing.request_digest != request_digest:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for different answers. Use a new key for "
            "a new submission."
        )
    return SubmissionOutcome(existing, created=False)


def submission_submit_draft(
    *, draft: IntakeDraft, client_address: str
) -> SubmissionOutcome:
    """Turn a finished draft into its submission; a second call finds the first.

    Refuses, keeping the draft, a questionnaire finished faster than a person reads
    (INTAKE_MIN_FILL_SECONDS) and an address past its rate limit.
    """
    existing = Submission.objects.filter(idempotency_key=f"draft:{draft.code}").first()
    if existing is not None:
        return SubmissionOutcome(existing, created=False)
    elapsed = timezone.now() - draft.created_at
    if elapsed < dt.timedelta(seconds=settings.INTAKE_MIN_FILL_SECONDS):
        raise SubmittedTooFast(
            _(
                "That was quicker than we expected anyone could read the questions. "
                "Your answers are kept: please check them and send again."
            )
        )
    submission_rate_limit_check(address=client_address)
    answers = {**intake_draft_answers(draft), "consent_health": True}
    return submission_create(
        version=draft.questionnaire_version,
        language=draft.language,
        answers=answers,
        idempotency_key=f"draft:{draft.code}",
        source=draft.source,
        consent_health_at=draft.consent_health_at,
        draft=draft,
    )


def photo_store(
    *,
    photo: PreparedPhoto,
    submission: Submission | None = None,
    draft: IntakeDraft | None = None,
) -> SubmissionPhoto:
    """Keep a prepared (metadata-free) photo, encrypted."""
    return SubmissionPhoto.objects.create(
        submission=submission,
        draft=draft,
        content_type=photo.content_type,
        content_ciphertext=health_bytes_encrypt(photo.data),
        width=photo.width,
        height=photo.height,
    )


def intake_draft_photos_replace(
    *, draft: IntakeDraft, photos: Sequence[PreparedPhoto]
) -> None:
    """The draft's photos become these (a new upload replaces the earlier ones)."""
    with transaction.atomic():
        if not IntakeDraft.objects.select_for_update().filter(pk=draft.pk).exists():
            raise DraftGone("This questionnaire was already sent.")
        draft.photos.all().delete()
        for photo in photos:
            photo_store(draft=draft, photo=photo)


def intake_draft_resume_link_send(*, draft: IntakeDraft, email: str) -> None:
    """Email the person a link to resume the draft, once per request, after commit.

    One email per draft every RESUME_EMAIL_INTERVAL, claimed in the database (not
    the cache), so the limit holds with Redis down and across web processes.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            IntakeDraft.objects.filter(pk=draft.pk)
            .filter(
                Q(resume_requested_at__isnull=True)
                | Q(resume_requested_at__lte=now - RESUME_EMAIL_INTERVAL)
            )
            .update(
                resume_email=email,
                resume_requested_at=now,
                resume_email_sent_at=None,
                updated_at=now,
            )
        )
        if not claimed:
            raise ResumeEmailTooSoon(
                _(
                    "We have just sent you a link. Please check your inbox, and spam "
                    "folder."
                )
            )
        enqueue_on_commit(intake_draft_resume_email_task, draft.pk)


def resume_token(draft: IntakeDraft) -> str:
    """The signed, expiring token of a draft's resume link (no answers inside)."""
    return signing.dumps(
        {"draft": str(draft.code), "nonce": str(draft.resume_nonce)}, salt=RESUME_SALT
    )


def intake_draft_resume_open(*, token: str) -> IntakeDraft | None:
    """The draft a resume link opens, once: opening it draws a new nonce.

    None for a forged, expired, used or deleted link.
    """
    max_age = dt.timedelta(days=settings.INTAKE_DRAFT_DAYS)
    try:
        payload = signing.loads(token, salt=RESUME_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    code, nonce = str(payload.get("draft")), str(payload.get("nonce"))
    opened = IntakeDraft.objects.filter(code=code, resume_nonce=nonce).update(
        resume_nonce=uuid.uuid4()
    )
    if not opened:
        return None
    return IntakeDraft.objects.get(code=code)


def intake_draft_resume_email_send(*, draft_id: int) -> bool:
    """Send the resume email if it is still owed; returns whether this call sent it.

    At most once per request: the row is claimed before sending, so a redelivered
    task or the sweep sends nothing. A failed send releases the claim for the retry.
    """
    claimed = (
        IntakeDraft.objects.filter(
            pk=draft_id,
            resume_requested_at__isnull=False,
            resume_email_sent_at__isnull=True,
        )
        .exclude(resume_email="")
        .update(resume_email_sent_at=timezone.now())
    )
    if not claimed:
        return False
    draft = IntakeDraft.objects.get(pk=draft_id)
    token = resume_token(draft)
    with translation.override(draft.language):
        link = settings.SITE_URL.rstrip("/") + reverse("intake:resume", args=[token])
        body = render_to_string(
            "intake/email/resume.txt",
            {"link": link, "days": settings.INTAKE_DRAFT_DAYS},
        )
        subject = _("Continue your consultation questionnaire")
    try:
        send_mail(subject, body, None, [draft.resume_email])
    except Exception:
        IntakeDraft.objects.filter(pk=draft_id).update(resume_email_sent_at=None)
        raise
    return True


def intake_draft_resume_email_send_due() -> int:
    """Send the resume emails requested and still unsent; the count this call sent.

    Covers a broker that was down when the link was requested, or a worker that
    died first; each send claims its row, so racing the task sends nothing twice.
    """
    due = IntakeDraft.objects.filter(
        resume_requested_at__isnull=False, resume_email_sent_at__isnull=True
    ).values_list("pk", flat=True)
    return sum(intake_draft_resume_email_send(draft_id=pk) for pk in list(due[:500]))


def intake_draft_purge_expired() -> int:
    """Delete drafts untouched for INTAKE_DRAFT_DAYS, with photos; return the count.

    Unfinished answers are kept only as long as the privacy notice promises.
    """
    cutoff = timezone.now() - dt.timedelta(days=settings.INTAKE_DRAFT_DAYS)
    deleted, _by_model = IntakeDraft.objects.filter(updated_at__lt=cutoff).delete()
    return deleted
