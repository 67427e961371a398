"""Intake's part of a person's data (core.privacy): their submissions, photos,
screening details, physicians' notes, drafts and resume emails."""

from typing import Any

from django.contrib.auth.models import User
from django.db.models.functions import TruncYear
from django.utils import timezone

from core.privacy import Person
from intake.encryption import health_data_encrypt
from intake.models import (
    IntakeDraft,
    ResumeEmail,
    ScreeningOverride,
    ScreeningResult,
    Submission,
    SubmissionPhoto,
)
from intake.services.health import submission_personal_export


def intake_person_export(person: Person, user: User) -> dict[str, Any]:
    """The person's submissions as they gave them, through the health door."""
    return {
        "submissions": submission_personal_export(
            user=user, submission_ids=person.submission_ids
        )
    }


def intake_person_erase(person: Person) -> dict[str, int]:
    """Blank what identifies the person or tells of their health, keep what is
    counted: each submission's date, location, language, birth year, consent
    times and screening outcomes. Drafts and resume emails to their addresses go."""
    submissions = Submission.objects.filter(pk__in=person.submission_ids)
    nothing = health_data_encrypt({})
    _count, drafts = IntakeDraft.objects.filter(
        resume_emails__to__in=person.emails
    ).delete()
    return {
        "photos": SubmissionPhoto.objects.filter(submission__in=submissions).delete()[
            0
        ],
        "drafts": drafts.get("intake.IntakeDraft", 0),
        "screening details": ScreeningResult.objects.filter(
            submission__in=submissions
        ).update(detail_ciphertext=nothing),
        "physician notes": ScreeningOverride.objects.filter(
            submission__in=submissions
        ).update(note=""),
        "resume emails": ResumeEmail.objects.filter(to__in=person.emails).delete()[0],
        "submissions": submissions.update(
            full_name="",
            email="",
            phone="",
            birth_date=TruncYear("birth_date"),
            contact_times=[],
            source={},
            health_answers_ciphertext=nothing,
            erased_at=timezone.now(),
        ),
    }
