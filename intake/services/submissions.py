"""Drafts and submissions: consent first, validated answers, once per key."""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BusinessError
from core.zones import clinic_zone
from intake.encryption import health_bytes_encrypt, health_data_encrypt
from intake.hooks import submission_recorded, submission_recorded_digest
from intake.models import (
    IntakeDraft,
    QuestionnaireVersion,
    ScreeningResult,
    Submission,
    SubmissionPhoto,
    TriggerTally,
)
from intake.photos import PreparedPhoto
from intake.questionnaires.definition import (
    CONTACT_LINK_IDS,
    Definition,
    Item,
    answers_prune,
    walk_items,
)
from intake.selectors.questionnaires import (
    location_list_active,
    privacy_notice_version,
    questionnaire_definition_get,
    questionnaire_version_get_published,
)
from intake.selectors.submissions import intake_draft_answers
from intake.services.screening import screening_result_record
from intake.throttling import (
    Hits,
    IntakeRateLimited,
    draft_limits_take,
    limits_give_back,
    submission_limits_take,
)
from intake.validators import answers_clean, consent_message, is_minor


class AnswersInvalid(BusinessError):
    code = "invalid"


class DraftGone(BusinessError):
    code = "draft_gone"


class IdempotencyKeyReused(BusinessError):
    code = "idempotency_key_reused"
    status_code = 409


class SubmittedTooFast(BusinessError):
    code = "too_fast"


@dataclass(frozen=True)
class SubmissionOutcome:
    """The submission a request made or found again, and which of the two."""

    submission: Submission
    created: bool
    # The screening just stored, when this request made the submission: the answer
    # page shows it without reading it again.
    screening: ScreeningResult | None = None


def intake_draft_start(
    *,
    language: str,
    consent_health: bool,
    source: Mapping[str, str],
    client_address: str | None = None,
    session_key: str | None = None,
    page_read: bool = False,
) -> IntakeDraft:
    """Begin a questionnaire once the person has consented to health-data processing.

    Without consent nothing is stored: AnswersInvalid names the consent field. A
    public request (`client_address` given) counts on its session's and address's
    draft limits (intake.throttling.draft_limits_take; `page_read`: the start page
    was shown long enough before to be read), IntakeRateLimited past them.
    """
    version = questionnaire_version_get_published()
    definition = questionnaire_definition_get(version)
    if not consent_health:
        raise AnswersInvalid(
            _("Please give your consent to go on."),
            fields={"consent_health": [consent_message()]},
        )
    hits = (
        draft_limits_take(
            address=client_address, session_key=session_key, read=page_read
        )
        if client_address is not None
        else Hits()
    )
    try:
        return IntakeDraft.objects.create(
            questionnaire_version=version,
            language=language,
            answers_ciphertext=health_data_encrypt({}),
            consent_health_at=timezone.now(),
            privacy_notice_version=privacy_notice_version(definition),
            source=dict(source),
        )
    except BaseException:
        limits_give_back(hits)
        raise


def intake_draft_answers_save(
    *, draft: IntakeDraft, answers: Mapping[str, Any], step_reached: int
) -> None:
    """Merge one step's answers into the draft (re-encrypted as a whole).

    DraftGone when the draft was submitted meanwhile (a second click on "Send").
    """
    definition = questionnaire_definition_get(draft.questionnaire_version)
    merged = {**intake_draft_answers(draft), **answers}
    draft.answers_ciphertext = health_data_encrypt(answers_prune(definition, merged))
    # Only someone under 18 skips the health questions: a date of birth corrected
    # to an adult's brings them back, from the next step on.
    birth_date = merged.get("birth_date")
    skipped = draft.contact_first
    draft.contact_first = skipped and (
        isinstance(birth_date, str) and is_minor(birth_date)
    )
    draft.step_reached = (
        step_reached
        if skipped and not draft.contact_first
        else max(draft.step_reached, step_reached)
    )
    saved = IntakeDraft.objects.filter(pk=draft.pk).update(
        answers_ciphertext=draft.answers_ciphertext,
        step_reached=draft.step_reached,
        contact_first=draft.contact_first,
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
    client_address: str | None = None,
    contact_first: bool = False,
) -> SubmissionOutcome:
    """Store a complete questionnaire once per idempotency key, and announce it.

    The same key again returns the first submission (created=False) and stores
    nothing more; the key's unique index decides, so a new submission pays no lookup.
    Invalid answers, a missing consent above all, store nothing. The announcement
    (intake.hooks.submission_recorded) runs in the same transaction: the lead is made
    with the submission or neither is. A public request (`client_address` given)
    counts on the limits of its email, phone and address once the answers are valid,
    and gives the hits back if nothing is stored; IntakeRateLimited past them.
    `contact_first` (someone under 18, intake_draft_contact_first) asks only the
    first and the last step; the unanswered health questions screen as review.
    """
    definition = questionnaire_definition_get(version)
    locations = {location.slug: location for location in location_list_active()}
    today = timezone.localdate()
    cleaned = answers_clean(
        definition,
        answers,
        items=contact_first_items(definition) if contact_first else None,
        location_codes=list(locations),
        phone_regions={code: location.country for code, location in locations.items()},
        today=today,
    )
    if cleaned.errors:
        existing = Submission.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:  # answers valid when first sent, e.g. a day ago
            return _replayed(existing, request_digest)
        raise AnswersInvalid(
            _("Some answers need another look."), fields=cleaned.errors
        )
    values = cleaned.values
    if contact_first and not is_minor(values["birth_date"], today=today):
        # Skipping the health questions is for someone under 18 only.
        raise AnswersInvalid(
            _("Please answer the health questions too."),
            fields={"birth_date": [_("This is for people under 18.")]},
        )
    health = {k: v for k, v in values.items() if k not in CONTACT_LINK_IDS}
    location = locations[values["location"]]
    hits = Hits()
    if client_address is not None:
        try:
            hits = submission_limits_take(
                address=client_address,
                email=values["email"],
                phone=values["phone"],
                location_slug=location.slug,
            )
        except IntakeRateLimited:
            # A retry of a submission stored before the limit was reached gets it
            # back; the lookup is paid on refusals only.
            existing = Submission.objects.filter(
                idempotency_key=idempotency_key
            ).first()
            if existing is None:
                raise
            return _replayed(existing, request_digest)
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
                location=location,
                contact_channel=values["contact_channel"],
                contact_times=values["contact_times"],
                health_answers_ciphertext=health_data_encrypt(health),
                consent_health_at=consent_health_at or now,
                # The notice the consent was given under: on the start page (the
                # draft's, the clinic's own text included), else the questionnaire's.
                privacy_notice_version=(
                    draft.privacy_notice_version
                    if draft is not None
                    else definition.privacy_notice_version
                ),
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
                submission=submission, answers=health, today=today, first=True
            )
            digest = submission_recorded_digest(
                submission_id=submission.pk,
                submission_code=submission.code,
                location=location,
                contact=values,
                health=health,
                definition=definition,
                outcomes=screening.outcomes if screening else None,
                physician_decides=screening.physician_decides if screening else [],
                bookable_from=screening.bookable_from if screening else {},
            )
            _triggers_tally(
                location_id=location.pk,
                # The location's own day, as the funnel's date range reads it.
                day=now.astimezone(clinic_zone(location.time_zone)).date(),
                triggers=digest.active_triggers,
            )
            submission_recorded.announce(digest)
    except IntegrityError:
        # The key was used before (a retry, or a race this request lost): that one
        # is the submission.
        limits_give_back(hits)
        existing = Submission.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _replayed(existing, request_digest)
    except BaseException:
        limits_give_back(hits)
        raise
    return SubmissionOutcome(submission, created=True, screening=screening)


def _triggers_tally(*, location_id: int, day: dt.date, triggers: Sequence[str]) -> None:
    """Count one more questionnaire for each of `triggers` that day: one upsert,
    safe against another submission counting the same row at once."""
    if not triggers:
        return
    quote = connection.ops.quote_name
    table = quote(TriggerTally._meta.db_table)
    key = ", ".join(quote(column) for column in ("location_id", "day", "trigger"))
    # Only the model's own table and column names go into the text, quoted; every
    # value is a bound parameter.
    upsert = (  # noqa: S608
        "INSERT INTO {table} ({key}, {count}) VALUES {rows} "  # nosec B608
        "ON CONFLICT ({key}) DO UPDATE SET {count} = {table}.{count} + 1"
    ).format(
        table=table,
        key=key,
        count=quote("submissions"),
        rows=", ".join(["(%s, %s, %s, 1)"] * len(triggers)),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            upsert,
            [value for trigger in triggers for value in (location_id, day, trigger)],
        )


def _replayed(existing: Submission, request_digest: str) -> SubmissionOutcome:
    """The first submission made with a key, for a repeat of the same request only."""
    if existing.request_digest != request_digest:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for different answers. Use a new key for "
            "a new submission."
        )
    return SubmissionOutcome(existing, created=False)


def contact_first_items(definition: Definition) -> list[Item]:
    """What someone under 18 who asked to be called first answers: the first step
    (their age, their concern) and the last (how to reach them)."""
    first, last = definition.steps[0], definition.steps[-1]
    return [item for step in (first, last) for item in walk_items(step)]


def intake_draft_contact_first(*, draft: IntakeDraft) -> int:
    """Someone under 18 asks a coordinator to call before the health questions: the
    draft skips to its last step (returned). Refused for an adult (AnswersInvalid)."""
    definition = questionnaire_definition_get(draft.questionnaire_version)
    birth_date = intake_draft_answers(draft).get("birth_date")
    if not (isinstance(birth_date, str) and is_minor(birth_date)):
        raise AnswersInvalid(
            _("This is for people under 18. Please answer the questions instead.")
        )
    last = len(definition.steps)
    IntakeDraft.objects.filter(pk=draft.pk).update(
        contact_first=True, step_reached=last, updated_at=timezone.now()
    )
    return last


def submission_submit_draft(
    *, draft: IntakeDraft, client_address: str
) -> SubmissionOutcome:
    """Turn a finished draft into its submission; a second call finds the first.

    Refuses, keeping the draft, a questionnaire finished faster than a person reads
    (INTAKE_MIN_FILL_SECONDS) and one past its email's, phone's or address's limit.
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
    answers = {**intake_draft_answers(draft), "consent_health": True}
    return submission_create(
        version=draft.questionnaire_version,
        language=draft.language,
        answers=answers,
        idempotency_key=f"draft:{draft.code}",
        source=draft.source,
        consent_health_at=draft.consent_health_at,
        draft=draft,
        client_address=client_address,
        contact_first=draft.contact_first,
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


def intake_draft_purge_expired() -> int:
    """Delete drafts untouched for INTAKE_DRAFT_DAYS, with photos; return the count.

    Unfinished answers are kept only as long as the privacy notice promises.
    """
    cutoff = timezone.now() - dt.timedelta(days=settings.INTAKE_DRAFT_DAYS)
    deleted, _by_model = IntakeDraft.objects.filter(updated_at__lt=cutoff).delete()
    return deleted
