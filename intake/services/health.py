"""Staff reads of health data: the one door.

Every staff read of a submission's health answers, screening detail or photos comes
through here and does the same four things in order:

1. the role check: physicians and clinic admins (clinics.selectors
   .staff_may_read_health). It comes first, so its refusal (403) is the same for
   every submission, one that exists or not;
2. the location scope: another location's submission does not exist (404);
3. one audit row per submission read (HealthDataAccess, with what was read),
   written before anything is decrypted;
4. the decryption, told in words: answers as "Question: answer", screening
   outcomes with the rules and answers behind them.

Besides this module only the person's own pages (intake.selectors.next_steps, the
form's draft) and intake's record-time screening and key rotation decrypt;
tests/intake/test_health_door.py keeps it that way.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, QuerySet

from clinics.selectors import location_scoped, staff_may_read_health
from core.errors import BusinessError
from intake.encryption import health_bytes_decrypt, health_data_decrypt
from intake.fhir import questionnaire_response_build
from intake.models import (
    HealthDataAccess,
    ScreeningOverride,
    ScreeningResult,
    Submission,
    SubmissionPhoto,
)
from intake.screening import screening_result_from_dict
from intake.selectors.questionnaires import (
    answers_in_words,
    questionnaire_definition_get,
)
from intake.selectors.screening import (
    TreatmentExplanation,
    screening_effective_outcomes,
    screening_explain,
)
from intake.selectors.submissions import (
    submission_contact_answers,
    submission_get_for_user,
    submission_list_for_user,
)
from intake.services.audit import health_data_access_record_many

What = HealthDataAccess.What


class HealthReadRefused(BusinessError):
    code = "permission_denied"
    status_code = 403


class SubmissionNotFound(BusinessError):
    code = "not_found"
    status_code = 404


@dataclass(frozen=True)
class SubmissionScreening:
    """Everything staff see of a submission's current screening."""

    submission: uuid.UUID  # the public code
    rule_set_version: str | None
    evaluated_on: dt.date | None
    effective_outcomes: dict[str, str]
    explanations: list[TreatmentExplanation]
    result: dict[str, Any] | None  # the stored result, decrypted
    overrides: list[ScreeningOverride]  # newest first, with who decided


@dataclass(frozen=True)
class SubmissionHealth:
    """One submission's health answers in words, and its screening explained."""

    code: uuid.UUID
    submitted_at: dt.datetime
    # "Question: answer" in the questionnaire's order and its English words (the
    # language staff read); unanswered questions left out.
    answers: tuple[str, ...]
    screening: SubmissionScreening


@dataclass(frozen=True)
class Photo:
    """A submission's photo, decrypted."""

    content_type: str
    data: bytes


def health_read_check(*, user: User | AnonymousUser) -> User:
    """`user` if they may read health data at all (a physician or a clinic admin),
    else HealthReadRefused. Every read here calls it; a door that must refuse before
    it starts answering (a streamed export) calls it first too."""
    if not staff_may_read_health(user):
        raise HealthReadRefused("Health data is for physicians and clinic admins.")
    # Only a signed-in user has a role.
    return cast(User, user)


def submission_health_read(
    *, user: User | AnonymousUser, code: uuid.UUID
) -> SubmissionHealth:
    """One submission's health answers and screening, in words; audited as
    `answers`. HealthReadRefused, or SubmissionNotFound outside the user's
    locations."""
    return _health(_read_one(user, code, what=What.ANSWERS))


def submission_health_read_many(
    *, user: User | AnonymousUser, submission_ids: Iterable[int]
) -> list[SubmissionHealth]:
    """The health answers and screening of the submissions among `submission_ids`
    that `user` may reach, oldest first; one `answers` audit row each, in one
    INSERT. A fixed number of queries however many there are."""
    reader = health_read_check(user=user)
    submissions = list(
        _with_screening(
            submission_list_for_user(user=user).filter(pk__in=submission_ids)
        ).order_by("submitted_at", "id")
    )
    _record(submissions, user=reader, what=What.ANSWERS)
    return [_health(submission) for submission in submissions]


def submission_personal_export(
    *, user: User | AnonymousUser, submission_ids: Iterable[int]
) -> list[dict[str, Any]]:
    """What the person gave in each of `submission_ids` (that `user` may reach),
    oldest first, as JSON-safe values for a copy of their data: contact details,
    consents, answers in words, screening outcomes and physicians' decisions, and
    the photos' sizes (not their pixels). Audited as `personal_export`."""
    reader = health_read_check(user=user)
    submissions = list(
        _with_screening(
            submission_list_for_user(user=user)
            .filter(pk__in=submission_ids)
            .select_related("location")
            .prefetch_related("photos")
        ).order_by("submitted_at", "id")
    )
    _record(submissions, user=reader, what=What.PERSONAL_EXPORT)
    return [_personal(submission) for submission in submissions]


def _personal(submission: Submission) -> dict[str, Any]:
    health = _health(submission)
    return {
        "code": str(submission.code),
        "submitted_at": submission.submitted_at.isoformat(),
        "language": submission.language,
        "full_name": submission.full_name,
        "birth_date": submission.birth_date.isoformat(),
        "email": submission.email,
        "phone": submission.phone,
        "location": submission.location.name,
        "contact_channel": submission.contact_channel,
        "contact_times": list(submission.contact_times),
        "consent_health_at": submission.consent_health_at.isoformat(),
        "privacy_notice_version": submission.privacy_notice_version,
        "consent_marketing": submission.consent_marketing,
        "answers": list(health.answers),
        "screening": health.screening.effective_outcomes,
        "physician_decisions": [
            {
                "treatment": override.treatment,
                "decision": override.decision,
                "note": override.note,
                "decided_at": override.decided_at.isoformat(),
            }
            for override in health.screening.overrides
        ],
        "photos": [
            {"width": photo.width, "height": photo.height}
            for photo in submission.photos.all()
        ],
    }


def submission_screening_read(
    *, user: User | AnonymousUser, code: uuid.UUID
) -> SubmissionScreening:
    """A submission's current screening: the stored result, the physicians'
    decisions on it, each outcome in words; audited as `screening`."""
    return _screening(_read_one(user, code, what=What.SCREENING))


def submission_screening_reads_record(
    *, user: User | AnonymousUser, submission_ids: Iterable[int]
) -> None:
    """Audit, as `screening`, a batch of submissions whose outcomes the caller
    shows from its own copy (the leads export's column, from the lead's
    treatments): one row per submission `user` may reach, in one query and one
    INSERT. Call before showing them."""
    reader = health_read_check(user=user)
    found = submission_list_for_user(user=user).filter(pk__in=submission_ids)
    health_data_access_record_many(
        submissions=found.values_list("pk", "code"), user=reader, what=What.SCREENING
    )


def submission_fhir_read(
    *, user: User | AnonymousUser, code: uuid.UUID, canonical_base: str
) -> dict[str, Any]:
    """A submission as a FHIR R4 QuestionnaireResponse whose canonical URLs start
    with `canonical_base`; audited as `fhir_export`."""
    reader = health_read_check(user=user)
    submission = submission_get_for_user(user=user, code=code)
    if submission is None or submission.erased_at:
        raise SubmissionNotFound("No such submission.")
    _record([submission], user=reader, what=What.FHIR_EXPORT)
    version = submission.questionnaire_version
    return questionnaire_response_build(
        definition=questionnaire_definition_get(version),
        version=str(version.number),
        canonical_base=canonical_base,
        response_id=str(submission.code),
        answers=health_data_decrypt(submission.health_answers_ciphertext),
        contact=submission_contact_answers(submission),
        authored=submission.submitted_at,
        language=submission.language,
    )


def submission_photo_read(
    *, user: User | AnonymousUser, submission_id: int, photo_code: uuid.UUID
) -> Photo:
    """One photo sent with a submission, decrypted; audited as `photo`.
    SubmissionNotFound for a photo not of that submission, or outside the user's
    locations."""
    reader = health_read_check(user=user)
    photo = (
        location_scoped(
            SubmissionPhoto.objects.filter(
                submission_id=submission_id, code=photo_code
            ),
            user=user,
            location_field="submission__location",
        )
        .select_related("submission")
        .first()
    )
    if photo is None or photo.submission is None:
        raise SubmissionNotFound("No such photo.")
    _record([photo.submission], user=reader, what=What.PHOTO)
    return Photo(
        content_type=photo.content_type,
        data=health_bytes_decrypt(bytes(photo.content_ciphertext)),
    )


def _read_one(user: User | AnonymousUser, code: uuid.UUID, *, what: str) -> Submission:
    """The submission `code` with its screening, once the role, the scope and the
    audit row allow it to be decrypted."""
    reader = health_read_check(user=user)
    submission = _with_screening(
        submission_list_for_user(user=user).filter(code=code)
    ).first()
    if submission is None:
        raise SubmissionNotFound("No such submission.")
    _record([submission], user=reader, what=what)
    return submission


def _record(submissions: Iterable[Submission], *, user: User, what: str) -> None:
    health_data_access_record_many(
        submissions=[(one.pk, one.code) for one in submissions], user=user, what=what
    )


def _with_screening(submissions: QuerySet[Submission]) -> QuerySet[Submission]:
    """`submissions` with what _health and _screening read, in two more queries
    for any number of them; an erased one is no longer there to read."""
    # Without to_attr, `screening_results.all()` is then the current result only.
    return (
        submissions.filter(erased_at__isnull=True)
        .select_related("questionnaire_version")
        .prefetch_related(
            Prefetch(
                "screening_results",
                queryset=ScreeningResult.objects.filter(is_current=True)
                .select_related("rule_set_version__rule_set")
                .prefetch_related(
                    Prefetch(
                        "overrides",
                        queryset=ScreeningOverride.objects.select_related(
                            "decided_by"
                        ).order_by("-decided_at", "-id"),
                    )
                ),
            )
        )
    )


def _health(submission: Submission) -> SubmissionHealth:
    definition = questionnaire_definition_get(submission.questionnaire_version)
    answers: dict[str, Any] = health_data_decrypt(submission.health_answers_ciphertext)
    return SubmissionHealth(
        code=submission.code,
        submitted_at=submission.submitted_at,
        answers=answers_in_words(definition, answers),
        screening=_screening(submission),
    )


def _screening(submission: Submission) -> SubmissionScreening:
    current = next(iter(submission.screening_results.all()), None)
    if current is None:
        return SubmissionScreening(
            submission=submission.code,
            rule_set_version=None,
            evaluated_on=None,
            effective_outcomes={},
            explanations=[],
            result=None,
            overrides=[],
        )
    overrides = list(current.overrides.all())
    effective = screening_effective_outcomes(
        submission, current=current, overrides=overrides
    )
    result: dict[str, Any] = health_data_decrypt(current.detail_ciphertext)
    definition = questionnaire_definition_get(submission.questionnaire_version)
    return SubmissionScreening(
        submission=submission.code,
        rule_set_version=str(current.rule_set_version),
        evaluated_on=current.evaluated_on,
        effective_outcomes=effective,
        explanations=screening_explain(
            definition, screening_result_from_dict(result), effective=effective
        ),
        result=result,
        overrides=overrides,
    )
