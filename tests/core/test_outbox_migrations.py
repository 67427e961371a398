"""Moving the resume email and webhook deliveries onto the outbox keeps every row.

A database at the previous schema (intake 0005, leads 0007) holds drafts whose link
was asked for (one sent, one still owed) and a delivered webhook; migrated forward,
the owed link is due and the sent one is not, and the delivery keeps when it was
delivered. Migrated back, the drafts say again what they said before.
"""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django_test_migrations.migrator import Migrator

BEFORE: list[tuple[str, str | None]] = [
    ("intake", "0005_location_in_clinics"),
    ("leads", "0007_clinic_models_moved"),
]
AFTER: list[tuple[str, str | None]] = [
    ("intake", "0006_resume_email_outbox"),
    ("leads", "0008_webhook_delivery_sent_at"),
]
ASKED = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
SENT = ASKED + dt.timedelta(seconds=3)


def _old_rows(apps: Any) -> dict[str, int]:
    questionnaire = apps.get_model("intake", "Questionnaire").objects.create(slug="q")
    version = apps.get_model("intake", "QuestionnaireVersion").objects.create(
        questionnaire=questionnaire, number=1, status="draft", definition={}
    )
    draft_model = apps.get_model("intake", "IntakeDraft")

    def draft(**resume: Any) -> int:
        return int(
            draft_model.objects.create(
                questionnaire_version=version,
                language="tr",
                answers_ciphertext="opaque",
                consent_health_at=ASKED,
                privacy_notice_version="1",
                **resume,
            ).pk
        )

    endpoint = apps.get_model("leads", "WebhookEndpoint").objects.create(
        name="CRM", url="https://crm.example/hook", secret="s" * 32
    )
    delivery = apps.get_model("leads", "WebhookDelivery").objects.create(
        endpoint=endpoint,
        event_type="lead.created",
        body={"id": "1"},
        status="sent",
        attempts=2,
        last_status_code=200,
        delivered_at=SENT,
    )
    return {
        "owed": draft(resume_email="owed@example.com", resume_requested_at=ASKED),
        "sent": draft(
            resume_email="sent@example.com",
            resume_requested_at=ASKED,
            resume_email_sent_at=SENT,
        ),
        "never_asked": draft(),
        "delivery": delivery.pk,
    }


def _state_at(nodes: list[tuple[str, str | None]]) -> Any:
    """The models as these migrations leave them (a backwards migrate returns the
    state it started from)."""
    named = [(app, name) for app, name in nodes if name is not None]
    return MigrationLoader(connection).project_state(named).apps


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@pytest.mark.django_db(transaction=True)
def test_owed_resume_links_and_delivered_webhooks_survive_the_move_to_the_outbox(
    migrator: Migrator,
) -> None:
    migrator.apply_initial_migration(BEFORE)
    # The plan up to BEFORE may run intake 0006 (leads 0007 comes later in it):
    # unapplying it here also proves the move can be reversed on an empty database.
    migrator.apply_tested_migration(BEFORE)
    ids = _old_rows(_state_at(BEFORE))
    tables_before = _tables()

    new = migrator.apply_tested_migration(AFTER)
    migrated_at = timezone.now()

    assert _tables() == tables_before | {"intake_resumeemail"}
    assert new.apps.get_model("intake", "IntakeDraft").objects.count() == 3
    resume_emails = {
        row.draft_id: row
        for row in new.apps.get_model("intake", "ResumeEmail").objects.all()
    }
    assert set(resume_emails) == {ids["owed"], ids["sent"]}
    owed, sent = resume_emails[ids["owed"]], resume_emails[ids["sent"]]
    assert (owed.to, owed.status, owed.attempts) == ("owed@example.com", "pending", 0)
    assert owed.next_attempt_at <= migrated_at  # due: the sweep sends it
    assert owed.created_at == ASKED
    assert (sent.to, sent.status, sent.sent_at) == ("sent@example.com", "sent", SENT)
    delivery = new.apps.get_model("leads", "WebhookDelivery").objects.get(
        pk=ids["delivery"]
    )
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 2, SENT)

    migrator.apply_tested_migration(BEFORE)
    back = _state_at(BEFORE)

    drafts = back.get_model("intake", "IntakeDraft").objects
    assert set(drafts.values_list("pk", "resume_email", "resume_email_sent_at")) == {
        (ids["owed"], "owed@example.com", None),
        (ids["sent"], "sent@example.com", SENT),
        (ids["never_asked"], "", None),
    }
    delivery = back.get_model("leads", "WebhookDelivery").objects.get(
        pk=ids["delivery"]
    )
    assert delivery.delivered_at == SENT
