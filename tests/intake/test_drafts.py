"""Save and resume: the emailed link, and the deletion of abandoned drafts."""

import datetime as dt
import re
import smtplib
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from core.models import DeliveryStatus
from intake.models import IntakeDraft, QuestionnaireVersion, ResumeEmail
from intake.services import resume
from intake.services.resume import resume_email_send_due
from intake.services.submissions import (
    DraftGone,
    intake_draft_answers_save,
    intake_draft_photos_replace,
    intake_draft_purge_expired,
    submission_submit_draft,
)
from intake.tasks import resume_email_send_task
from tests.support.answers import complete_answers
from tests.support.form_steps import (
    STEPS,
    fill_until_last,
    save_data,
    start,
    step_data,
)


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
        client.post("/en/consultation/step/2/", save_data("ayse@example.com"))
    resume_email = ResumeEmail.objects.get()
    resume_email_send_task.run(resume_email.pk)
    resume_email_send_task.run(resume_email.pk)  # a redelivery sends nothing more

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
        client.post("/en/consultation/step/1/", save_data("ayse@example.com"))
        response = client.post("/en/consultation/step/1/", save_data("x@example.com"))

    assert len(callbacks) == 1
    page = client.get(response["Location"]).content.decode()
    assert "We have just sent you a link" in page


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """What the resume email task was handed: unit tests do not reach a broker."""
    calls: list[tuple[Any, ...]] = []

    def delay(*args: Any, **kwargs: Any) -> None:
        calls.append((*args, *kwargs.items()))

    monkeypatch.setattr(resume_email_send_task, "delay", delay)
    return calls


def _asked_for_the_link(client: Client, email: str) -> None:
    response = client.post("/en/consultation/step/1/", save_data(email))
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_broker_is_handed_the_resume_emails_id_not_the_address_or_answers(
    client: Client,
    published: QuestionnaireVersion,
    enqueued: list[tuple[Any, ...]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    start(client)
    client.post("/en/consultation/step/1/", step_data(1, complete_answers()))

    with django_capture_on_commit_callbacks(execute=True):
        _asked_for_the_link(client, "ayse@example.com")

    assert enqueued == [(ResumeEmail.objects.get().pk,)]


@pytest.mark.django_db
def test_a_resume_link_the_mail_server_refused_is_sent_once_it_is_back(
    client: Client,
    published: QuestionnaireVersion,
    enqueued: list[tuple[Any, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def server_away(*args: object, **kwargs: object) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    start(client)
    _asked_for_the_link(client, "ayse@example.com")
    resume_email = ResumeEmail.objects.get()
    with monkeypatch.context() as away:
        away.setattr(resume, "send_mail", server_away)
        resume_email_send_task.run(resume_email.pk)

    resume_email.refresh_from_db()
    assert resume_email.status == DeliveryStatus.PENDING
    assert "SMTPServerDisconnected" in resume_email.last_error
    assert mail.outbox == []
    # Not due before its backoff ends; then the sweep hands it over again.
    assert resume_email_send_due() == 0
    assert resume_email_send_due(now=resume_email.next_attempt_at) == 1
    ResumeEmail.objects.filter(pk=resume_email.pk).update(
        next_attempt_at=timezone.now()
    )
    resume_email_send_task.run(resume_email.pk)

    assert [message.to for message in mail.outbox] == [["ayse@example.com"]]
    resume_email.refresh_from_db()
    assert (resume_email.status, resume_email.attempts) == (DeliveryStatus.SENT, 2)


@pytest.mark.django_db
def test_asking_again_after_the_interval_sends_the_link_to_the_newest_address_only(
    client: Client, published: QuestionnaireVersion, enqueued: list[tuple[Any, ...]]
) -> None:
    start(client)
    _asked_for_the_link(client, "ayse@exmaple.com")  # a typo, never delivered
    IntakeDraft.objects.update(
        resume_requested_at=timezone.now() - resume.RESUME_EMAIL_INTERVAL
    )
    _asked_for_the_link(client, "ayse@example.com")

    for resume_email_id in ResumeEmail.objects.values_list("pk", flat=True):
        resume_email_send_task.run(resume_email_id)

    assert [message.to for message in mail.outbox] == [["ayse@example.com"]]
    replaced = ResumeEmail.objects.get(to="ayse@exmaple.com")
    assert replaced.status == DeliveryStatus.SKIPPED
    assert "newer request" in replaced.last_error


@pytest.mark.django_db
def test_save_and_finish_later_keeps_what_was_ticked_on_the_page_in_hand(
    client: Client, published: QuestionnaireVersion
) -> None:
    answers = complete_answers()
    start(client)
    client.post("/en/consultation/step/1/", step_data(1, answers))
    # Half of step 2 answered, with one answer the form would refuse.
    half = {"weight_loss": "yes", "weight_loss_kg": "not a number"}

    response = client.post(
        "/en/consultation/step/2/", save_data("ayse@example.com", half, number=2)
    )

    assert response.status_code == 302
    assert response["Location"] == "/en/consultation/step/2/"
    page = client.get(response["Location"]).content.decode()
    assert re.search(r'name="weight_loss" value="yes"[^>]*checked', page)
    assert "We have emailed you a link to continue" in page
    assert ResumeEmail.objects.get().to == "ayse@example.com"


@pytest.mark.django_db
def test_each_step_page_has_one_element_per_id(
    client: Client, published: QuestionnaireVersion
) -> None:
    answers = complete_answers()
    start(client)
    for number in range(1, len(STEPS) + 1):
        page = client.get(f"/en/consultation/step/{number}/").content.decode()
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        client.post(f"/en/consultation/step/{number}/", step_data(number, answers))
