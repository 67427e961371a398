"""Save and resume: the emailed link, and the deletion of abandoned drafts."""

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from intake.models import IntakeDraft, QuestionnaireVersion
from intake.services.submissions import (
    DraftGone,
    intake_draft_answers_save,
    intake_draft_photos_replace,
    intake_draft_purge_expired,
    submission_submit_draft,
)
from intake.tasks import intake_draft_resume_email_task
from tests.intake.conftest import complete_answers
from tests.intake.form_steps import STEPS, fill_until_last, start, step_data


@pytest.mark.django_db
def test_an_emailed_link_resumes_the_questionnaire_on_another_device(
    client: Client,
    published: QuestionnaireVersion,
    django_capture_on_commit_callbacks: object,
) -> None:
    answers = complete_answers()
    start(client)
    client.post("/en/consultation/step/1/", step_data(1, answers))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[operator]
        client.post("/en/consultation/save/", {"email": "ayse@example.com"})
    draft = IntakeDraft.objects.get()
    intake_draft_resume_email_task.run(draft.pk)
    intake_draft_resume_email_task.run(draft.pk)  # a redelivery sends nothing more

    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ayse@example.com"]
    link = re.search(r"https?://\S+/resume/\S+/", str(message.body))
    assert link is not None
    other_device = Client()
    response = other_device.get(urlsplit(link.group(0)).path)
    assert response.status_code == 302
    assert Client().get(urlsplit(link.group(0)).path).status_code == 410  # used once
    assert response["Location"] == "/en/consultation/step/2/"
    page = other_device.get("/en/consultation/step/1/").content.decode()
    assert re.search(r'value="redness"[^>]*checked', page)


@pytest.mark.django_db
def test_a_tampered_resume_link_is_refused_kindly(
    client: Client, published: QuestionnaireVersion
) -> None:
    response = client.get("/en/consultation/resume/not-a-real-token/")

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


@pytest.mark.django_db
def test_abandoned_drafts_are_deleted_after_the_promised_days(
    client: Client, published: QuestionnaireVersion
) -> None:
    start(client)
    start(Client())
    old = IntakeDraft.objects.first()
    assert old is not None
    IntakeDraft.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=31)
    )

    assert intake_draft_purge_expired() == 1
    assert IntakeDraft.objects.count() == 1


@pytest.mark.django_db
def test_a_second_send_racing_the_first_finds_the_draft_gone_not_an_error(
    client: Client, published: QuestionnaireVersion
) -> None:
    answers = complete_answers()
    last = fill_until_last(client, answers)
    stale = IntakeDraft.objects.get()  # what the second request loaded
    client.post(last, step_data(len(STEPS), answers))

    with pytest.raises(DraftGone):
        intake_draft_answers_save(draft=stale, answers={}, step_reached=6)
    with pytest.raises(DraftGone):
        intake_draft_photos_replace(draft=stale, photos=[])
    outcome = submission_submit_draft(draft=stale, client_address="127.0.0.1")
    assert outcome.created is False


@pytest.mark.django_db
def test_asking_for_the_link_again_at_once_sends_nothing_more(
    client: Client,
    published: QuestionnaireVersion,
    django_capture_on_commit_callbacks: Any,
) -> None:
    start(client)

    with django_capture_on_commit_callbacks() as callbacks:
        client.post("/en/consultation/save/", {"email": "ayse@example.com"})
        response = client.post("/en/consultation/save/", {"email": "x@example.com"})

    assert len(callbacks) == 1
    page = client.get(response["Location"]).content.decode()
    assert "We have just sent you a link" in page
