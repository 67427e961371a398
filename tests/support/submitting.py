"""Submitting questionnaires as intake does, to test what leads make of them."""

import uuid
from typing import Any

from intake.models import QuestionnaireVersion, Submission
from intake.services.submissions import submission_create
from leads.models import Lead, LeadEvent
from tests.support.answers import complete_answers


def submit(version: QuestionnaireVersion, **overrides: Any) -> Submission:
    """A complete, low-risk questionnaire with `overrides`, stored through intake."""
    outcome = submission_create(
        version=version,
        language="en",
        answers=complete_answers(**overrides),
        idempotency_key=uuid.uuid4().hex,
        source={},
    )
    return outcome.submission


def lead_of(submission: Submission) -> Lead:
    """The lead the submission joined."""
    return LeadEvent.objects.get(
        submission=submission, kind=LeadEvent.Kind.SUBMITTED
    ).lead
