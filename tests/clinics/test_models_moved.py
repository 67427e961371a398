"""Moving Location, Practitioner and StaffMember from leads to clinics keeps every row.

A database at the previous schema (leads 0006, intake 0004) is filled with a clinic
as it was, then migrated forward: every row, relation and permission is found again
through the new models, and no table was copied or renamed.
"""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django_test_migrations.migrator import Migrator

BEFORE: list[tuple[str, str | None]] = [
    ("leads", "0006_event_screening_reevaluated"),
    ("intake", "0004_screening_physician_decides"),
]
AFTER: list[tuple[str, str | None]] = [
    ("clinics", "0001_initial"),
    ("intake", "0005_location_in_clinics"),
    ("leads", "0007_clinic_models_moved"),
]
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _old_clinic(apps: Any) -> dict[str, Any]:
    """A clinic at the previous schema: two locations, staff, a practitioner, an
    assignment rule, a lead and a submission, and a group allowed to view locations."""
    location_model = apps.get_model("leads", "Location")
    user_model = apps.get_model("auth", "User")
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    group_model = apps.get_model("auth", "Group")

    istanbul = location_model.objects.create(slug="ist", name="Istanbul")
    berlin = location_model.objects.create(
        slug="ber", name="Berlin", time_zone="Europe/Berlin"
    )
    coordinator_user = user_model.objects.create(username="ayse")
    coordinator = apps.get_model("leads", "StaffMember").objects.create(
        user=coordinator_user, role="coordinator", languages=["tr"]
    )
    coordinator.locations.set([istanbul, berlin])
    practitioner = apps.get_model("leads", "Practitioner").objects.create(
        display_name="Dr. Demir", kind="physician", languages=["tr", "en"]
    )
    practitioner.locations.set([berlin])
    rule = apps.get_model("leads", "AssignmentRule").objects.create(
        name="Istanbul", location=istanbul, last_assigned=coordinator
    )
    rule.coordinators.set([coordinator])
    lead = apps.get_model("leads", "Lead").objects.create(
        location=berlin,
        full_name="Ada Patient",
        email="ada@example.com",
        email_key="ada@example.com",
        phone="+491512345678",
        preferred_language="en",
        owner=coordinator_user,
        first_contact_due_at=NOW,
    )
    questionnaire = apps.get_model("intake", "Questionnaire").objects.create(slug="q")
    version = apps.get_model("intake", "QuestionnaireVersion").objects.create(
        questionnaire=questionnaire, number=1, status="draft", definition={}
    )
    submission = apps.get_model("intake", "Submission").objects.create(
        questionnaire_version=version,
        idempotency_key="k1",
        language="en",
        full_name="Ada Patient",
        birth_date=dt.date(1990, 1, 1),
        email="ada@example.com",
        phone="+491512345678",
        preferred_language="en",
        location=istanbul,
        contact_channel="email",
        health_answers_ciphertext="opaque",
        consent_health_at=NOW,
        privacy_notice_version="1",
    )
    # Content types exist once post_migrate ran; on this database they are made here.
    location_type, _ = content_type_model.objects.get_or_create(
        app_label="leads", model="location"
    )
    view_location, _ = permission_model.objects.get_or_create(
        content_type=location_type,
        codename="view_location",
        defaults={"name": "Can view location"},
    )
    group = group_model.objects.create(name="Front desk")
    group.permissions.add(view_location)
    return {
        "istanbul": istanbul.pk,
        "berlin": berlin.pk,
        "coordinator": coordinator.pk,
        "practitioner": practitioner.pk,
        "rule": rule.pk,
        "lead": lead.pk,
        "submission": submission.pk,
        "location_type": location_type.pk,
    }


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@pytest.mark.django_db(transaction=True)
def test_a_populated_database_moves_to_clinics_with_nothing_lost(
    migrator: Migrator,
) -> None:
    migrator.apply_initial_migration(BEFORE)
    # The plan up to BEFORE may include clinics 0001 (it needs only leads 0006):
    # unapplying it also proves the move can be reversed.
    old = migrator.apply_tested_migration([("clinics", None)])
    assert ("clinics", "location") not in old.models
    ids = _old_clinic(old.apps)
    tables_before = _tables()

    new = migrator.apply_tested_migration(AFTER)
    apps = new.apps
    assert ("leads", "location") not in new.models
    assert _tables() == tables_before  # nothing copied, renamed or dropped

    location_model = apps.get_model("clinics", "Location")
    assert set(location_model.objects.values_list("slug", "time_zone")) == {
        ("ist", "Europe/Istanbul"),
        ("ber", "Europe/Berlin"),
    }
    coordinator = apps.get_model("clinics", "StaffMember").objects.get(
        pk=ids["coordinator"]
    )
    assert coordinator.user.username == "ayse"
    assert coordinator.languages == ["tr"]
    assert {loc.pk for loc in coordinator.locations.all()} == {
        ids["istanbul"],
        ids["berlin"],
    }
    practitioner = apps.get_model("clinics", "Practitioner").objects.get(
        pk=ids["practitioner"]
    )
    assert [loc.slug for loc in practitioner.locations.all()] == ["ber"]
    berlin = location_model.objects.get(pk=ids["berlin"])
    assert [p.display_name for p in berlin.practitioners.all()] == ["Dr. Demir"]

    rule = apps.get_model("leads", "AssignmentRule").objects.get(pk=ids["rule"])
    assert rule.location_id == ids["istanbul"]
    assert rule.last_assigned_id == ids["coordinator"]
    assert [c.pk for c in rule.coordinators.all()] == [ids["coordinator"]]

    lead = apps.get_model("leads", "Lead").objects.get(pk=ids["lead"])
    assert lead.location.slug == "ber"
    assert [lead.full_name for lead in berlin.leads.all()] == ["Ada Patient"]
    submission = apps.get_model("intake", "Submission").objects.get(
        pk=ids["submission"]
    )
    assert submission.location.slug == "ist"

    # The permission follows the model: the group still may view locations.
    location_type = apps.get_model("contenttypes", "ContentType").objects.get(
        pk=ids["location_type"]
    )
    assert (location_type.app_label, location_type.model) == ("clinics", "location")
    group = apps.get_model("auth", "Group").objects.get(name="Front desk")
    assert [
        (p.content_type.app_label, p.codename) for p in group.permissions.all()
    ] == [("clinics", "view_location")]

    # The foreign keys still guard the rows: a location with leads cannot go.
    with pytest.raises(Exception, match=r"protected|foreign key"):
        berlin.delete()
