"""Intake announces a stored submission and a changed screening; leads acts on both in
the same transaction, from the digest alone."""

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intake.hooks import SubmissionRecorded, submission_recorded
from intake.models import QuestionnaireVersion, Submission
from intake.services.submissions import submission_create
from leads.models import Lead, LeadTreatment
from tests.support.answers import complete_answers


class ReceiverBroke(Exception):
    pass


@pytest.fixture
def heard() -> Iterator[list[SubmissionRecorded]]:
    """The digests announced while the test runs."""
    digests: list[SubmissionRecorded] = []
    submission_recorded.subscribe(digests.append)
    yield digests
    submission_recorded._receivers.remove(digests.append)


def _send(version: QuestionnaireVersion, key: str = "k", **answers: Any) -> Any:
    return submission_create(
        version=version,
        language="en",
        answers=complete_answers(**answers),
        idempotency_key=key,
        source={},
    )


def test_a_new_submission_is_announced_once_with_no_health_answers(
    published: QuestionnaireVersion, heard: list[SubmissionRecorded]
) -> None:
    _send(
        published,
        treatments_wanted=["mesotherapy", "laser_ipl", "not_sure"],
        blood_thinners=["warfarin"],
        allergy_details="latex gloves",
    )
    _send(published)  # the same key again: a replay, not a new submission

    [digest] = heard
    assert digest.submission_id == Submission.objects.get().pk
    assert digest.not_sure is True
    assert set(digest.outcomes) == {"mesotherapy", "laser_ipl"}
    # Warfarin is a question for a physician before mesotherapy.
    assert digest.outcomes["mesotherapy"] == "review"
    assert 0 < digest.completeness <= 1
    words = " ".join(str(value) for value in dataclasses.astuple(digest))
    assert "warfarin" not in words
    assert "latex" not in words


def test_the_lead_is_made_from_the_digest_without_reading_intake_again(
    published: QuestionnaireVersion,
) -> None:
    with CaptureQueriesContext(connection) as captured:
        _send(published, treatments_wanted=["mesotherapy"])

    lead = Lead.objects.get()
    assert list(lead.treatments.values_list("treatment", "outcome")) == [
        ("mesotherapy", "eligible")
    ]
    statements = [query["sql"] for query in captured.captured_queries]
    handoff_starts = next(
        index for index, sql in enumerate(statements) if 'FROM "leads_lead"' in sql
    )
    assert not [sql for sql in statements[handoff_starts:] if '"intake_' in sql]


def test_a_receiver_that_fails_leaves_neither_submission_nor_lead(
    published: QuestionnaireVersion,
) -> None:
    def broken(digest: SubmissionRecorded) -> None:
        raise ReceiverBroke

    submission_recorded.subscribe(broken)
    try:
        with pytest.raises(ReceiverBroke):
            _send(published)
    finally:
        submission_recorded._receivers.remove(broken)

    assert not Submission.objects.exists()
    assert not Lead.objects.exists()
    assert not LeadTreatment.objects.exists()
