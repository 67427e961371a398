"""Reads of drafts and submissions: by public code for the person's own pages, and
scoped to the user's locations for every staff door."""

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import TruncWeek
from django.utils import timezone

from clinics.selectors import location_scoped
from intake.encryption import health_data_decrypt
from intake.models import IntakeDraft, Submission, TriggerTally
from intake.validators import AnswerInvalid, phone_normalise

K = TypeVar("K")


def intake_draft_get(*, code: Any) -> IntakeDraft | None:
    """The draft with this public code, with its version, or None."""
    return (
        IntakeDraft.objects.select_related("questionnaire_version")
        .filter(code=code)
        .first()
    )


def intake_draft_answers(draft: IntakeDraft) -> dict[str, Any]:
    """A draft's answers so far, decrypted (for its own author only: the form
    reads back what the visitor typed, unaudited)."""
    answers: dict[str, Any] = health_data_decrypt(draft.answers_ciphertext)
    return answers


def submission_get(*, code: Any) -> Submission | None:
    """A submission by public code, with what its pages show (the patient's own
    pages; staff doors use submission_get_for_user)."""
    return (
        Submission.objects.select_related(
            "questionnaire_version__questionnaire", "location"
        )
        .filter(code=code)
        .first()
    )


def submission_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Submission]:
    """The submissions `user` may reach: those sent to a location they work at
    (all for clinic admins, none without a staff role)."""
    return location_scoped(Submission.objects.all(), user=user)


def submission_get_for_user(
    *, user: User | AnonymousUser, code: Any
) -> Submission | None:
    """One submission `user` may reach, by public code; None for another
    location's, exactly as for one that does not exist."""
    return (
        submission_list_for_user(user=user)
        .select_related("questionnaire_version__questionnaire", "location")
        .filter(code=code)
        .first()
    )


def submission_contact_answers(submission: Submission) -> dict[str, Any]:
    """The contact and consent items of a submission, as questionnaire answers."""
    return {
        "full_name": submission.full_name,
        "birth_date": submission.birth_date.isoformat(),
        "email": submission.email,
        "phone": submission.phone,
        "preferred_language": submission.preferred_language,
        "location": submission.location.slug,
        "contact_channel": submission.contact_channel,
        "contact_times": list(submission.contact_times),
        "consent_health": True,
        "consent_marketing": submission.consent_marketing,
        "photos": submission.photos.count(),
    }


def submission_phone_normalise(text: str) -> str | None:
    """`text` as submissions store a phone number (E.164), or None when it is not
    a number one could call: for searching by phone what the form stored."""
    try:
        return phone_normalise(text)
    except AnswerInvalid:
        return None


def person_youngest_age(*, submission_ids: Iterable[int], on: dt.date) -> int | None:
    """The age on `on` by the latest birth date among the submissions (a person
    who gave two birth dates counts as the younger); None when there are none."""
    born = (
        Submission.objects.filter(pk__in=submission_ids)
        .order_by("-birth_date")
        .values_list("birth_date", flat=True)
        .first()
    )
    if born is None:
        return None
    return age_on(born, on=on)


def people_ages(
    *, submission_ids_by_person: Mapping[K, Collection[int]], on: dt.date
) -> dict[K, int]:
    """person_youngest_age for many people at once (e.g. a page of leads, each
    with its submissions): one query."""
    wanted = {pk for ids in submission_ids_by_person.values() for pk in ids}
    born = dict(
        Submission.objects.filter(pk__in=wanted).values_list("pk", "birth_date")
    )
    ages: dict[K, int] = {}
    for person, ids in submission_ids_by_person.items():
        dates = [born[pk] for pk in ids if pk in born]
        if dates:
            ages[person] = age_on(max(dates), on=on)
    return ages


def age_on(born: dt.date, *, on: dt.date) -> int:
    """Whole years from `born` to `on`."""
    had_birthday = (on.month, on.day) >= (born.month, born.day)
    return on.year - born.year - (0 if had_birthday else 1)


@dataclass(frozen=True)
class ContactRecord:
    """How and when the person asked to be contacted, their age, and the consent
    record of their newest questionnaire: no health data."""

    submitted_at: dt.datetime
    age: int
    contact_channel: str
    contact_times: tuple[str, ...]
    consent_health_at: dt.datetime
    privacy_notice_version: str
    consent_marketing: bool
    consent_marketing_at: dt.datetime | None


def submission_contact_get(*, submission_ids: Iterable[int]) -> ContactRecord | None:
    """The contact preferences and consent of the newest of the submissions (the
    age by the youngest birth date given); None when there are none."""
    rows = list(
        Submission.objects.filter(pk__in=submission_ids)
        .order_by("-submitted_at", "-id")
        .values(
            "submitted_at", "birth_date", "contact_channel", "contact_times",
            "consent_health_at", "privacy_notice_version", "consent_marketing",
            "consent_marketing_at",
        )
    )  # fmt: skip
    if not rows:
        return None
    newest = rows[0]
    return ContactRecord(
        submitted_at=newest["submitted_at"],
        age=age_on(max(row["birth_date"] for row in rows), on=timezone.localdate()),
        contact_channel=newest["contact_channel"],
        contact_times=tuple(newest["contact_times"]),
        consent_health_at=newest["consent_health_at"],
        privacy_notice_version=newest["privacy_notice_version"],
        consent_marketing=newest["consent_marketing"],
        consent_marketing_at=newest["consent_marketing_at"],
    )


NO_SOURCE = "direct"


def submission_sources_by_week(
    *, submission_ids: QuerySet[Any, Any]
) -> list[tuple[dt.date, dict[str, int]]]:
    """Per week (Monday), how many of the submissions came from each source (the
    link's utm_source; "direct" without one), oldest week first: one query."""
    weeks: dict[dt.date, dict[str, int]] = {}
    for week, source, n in (
        Submission.objects.filter(pk__in=submission_ids)
        .annotate(week=TruncWeek("submitted_at"), from_=KT("source__utm_source"))
        .values("week", "from_")
        .annotate(n=Count("id"))
        .values_list("week", "from_", "n")
    ):
        day = week.date() if isinstance(week, dt.datetime) else week
        shown = weeks.setdefault(day, {})
        shown[source or NO_SOURCE] = shown.get(source or NO_SOURCE, 0) + n
    return sorted(weeks.items())


def trigger_counts(
    *, since: dt.date, until: dt.date, location_ids: QuerySet[Any, Any]
) -> Counter[str]:
    """How many questionnaires from `since` to before `until` at the locations
    named each redness trigger (intake.models.TriggerTally): one query."""
    return Counter(
        dict(
            TriggerTally.objects.filter(
                location_id__in=location_ids, day__gte=since, day__lt=until
            )
            .values("trigger")
            .annotate(n=Sum("submissions"))
            .values_list("trigger", "n")
        )
    )
