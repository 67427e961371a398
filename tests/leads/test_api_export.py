"""The queue as a streamed CSV: the same filters and scope, health only when allowed."""

import csv
import io
from typing import Any

import psycopg
import pytest
from django.db import OperationalError

from clinics.models import Location, StaffMember
from intake.models import HealthDataAccess, QuestionnaireVersion
from leads.api import export
from leads.models import Lead, LeadTreatment
from leads.selectors import lead_export_list
from tests.support.factories import LeadFactory
from tests.support.staff_api import client_for, staff
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/leads/export.csv"


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_an_export_streams_the_filtered_queue_without_health_data(
    location: Location,
) -> None:
    new = LeadFactory.create(location=location, full_name="New One")
    LeadTreatment.objects.create(lead=new, treatment="prp", outcome="contraindicated")
    LeadFactory.create(location=location, status=Lead.Status.CONTACTED)
    exporter = staff(locations=[location], may_export=True)

    rows = _rows(client_for(exporter).get(EXPORT, {"status": "new"}))

    assert [row["code"] for row in rows] == [str(new.code)]
    assert rows[0]["full_name"] == "New One"
    assert rows[0]["location"] == "nisantasi"
    assert "screening" not in rows[0]
    assert "contraindicated" not in str(rows)
    assert not HealthDataAccess.objects.exists()


def test_exporting_needs_the_export_permission_or_the_admin_role(
    location: Location,
) -> None:
    LeadFactory.create(location=location)
    without = staff(locations=[location])
    admin = staff(StaffMember.Role.CLINIC_ADMIN)

    refused = client_for(without).get(EXPORT)

    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert len(_rows(client_for(admin).get(EXPORT))) == 1


def test_a_coordinator_may_not_export_screening_outcomes(location: Location) -> None:
    coordinator = staff(locations=[location], may_export=True)

    response = client_for(coordinator).get(EXPORT, {"include_health": "true"})

    assert response.status_code == 403


def test_a_physicians_export_with_outcomes_audits_each_leads_newest_submission(
    published: QuestionnaireVersion, location: Location
) -> None:
    first = submit(published, blood_thinners=["aspirin"])
    newest = submit(published, blood_thinners=["aspirin"])
    other = submit(
        published,
        full_name="Zeynep Arslan",
        email="zeynep@example.com",
        phone="0533 765 43 21",
    )
    physician = staff(StaffMember.Role.PHYSICIAN, locations=[location], may_export=True)

    rows = _rows(client_for(physician).get(EXPORT, {"include_health": "true"}))

    assert len(rows) == 2
    by_code = {row["code"]: row for row in rows}
    assert "mesotherapy=review" in by_code[str(lead_of(first).code)]["screening"]
    reads = HealthDataAccess.objects.filter(user=physician, what="screening")
    assert sorted(reads.values_list("submission_code", flat=True)) == sorted(
        [newest.code, other.code]
    )


def test_spreadsheet_formulas_in_names_are_neutralised(location: Location) -> None:
    LeadFactory.create(location=location, full_name='=HYPERLINK("http://x","y")')
    admin = staff(StaffMember.Role.CLINIC_ADMIN)

    rows = _rows(client_for(admin).get(EXPORT))

    assert rows[0]["full_name"].startswith("'=")
    assert rows[0]["phone"].startswith("+90")


def test_a_client_asking_for_csv_gets_it_and_bad_filters_still_answer_json(
    location: Location,
) -> None:
    LeadFactory.create(location=location)
    client = client_for(staff(StaffMember.Role.CLINIC_ADMIN))

    assert len(_rows(client.get(EXPORT, HTTP_ACCEPT="text/csv"))) == 1
    refused = client.get(EXPORT, {"status": "bogus"}, HTTP_ACCEPT="text/csv")
    assert refused.status_code == 400
    assert refused.json()["fields"]["status"]


def test_an_export_pages_through_more_rows_than_one_chunk(
    location: Location, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("leads.api.export.CHUNK_ROWS", 3)
    LeadFactory.create_batch(8, location=location)
    client = client_for(staff(StaffMember.Role.CLINIC_ADMIN))

    response: Any = client.get(EXPORT, {"ordering": "-created"})
    chunks = list(response.streaming_content)

    # The header, then three chunks of rows.
    assert len([chunk for chunk in chunks if chunk]) == 4
    text = b"".join(chunks).decode()
    assert len(list(csv.DictReader(io.StringIO(text)))) == 8


def test_an_export_that_loses_the_database_midway_ends_as_a_failed_download(
    location: Location,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given three leads, sent two rows a chunk, and a database that fails after two
    LeadFactory.create_batch(3, location=location)
    exporter = staff(locations=[location], may_export=True)
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)

    class FailsAfterTwo:
        def __init__(self, **kwargs: Any) -> None:
            self.rows = lead_export_list(**kwargs)

        def iterator(self, chunk_size: int) -> Any:
            yield from self.rows[:2]
            error = OperationalError("server closed the connection unexpectedly")
            error.__cause__ = psycopg.OperationalError("consuming input failed")
            raise error

    monkeypatch.setattr(export, "lead_export_list", FailsAfterTwo)

    # When the export is read
    response: Any = client_for(exporter).get(EXPORT)
    assert response.status_code == 200
    stream = iter(response.streaming_content)
    received = [next(stream), next(stream)]

    # Then the header and the first chunk arrive, and the stream is aborted, not
    # ended: the server drops the connection before the end of the chunked body
    with pytest.raises(export.ExportCutShort):
        next(stream)
    lines = b"".join(received).decode().splitlines()
    assert lines[0].startswith("code,full_name")
    assert len(lines) == 3
    assert "lead export cut short after 2 rows (OperationalError)" in caplog.text
