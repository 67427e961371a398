"""Every filter and order of the queue is served by an index (EXPLAIN on PostgreSQL).

Ten thousand leads, ANALYZEd. Each filter's conditions alone, with sequential scans
disabled, must use that filter's own index: a filter no index serves would still
show "Seq Scan". Each order's page query, with sorts disabled too, must walk its
(column, id) index from the cursor on: an order no index gives would still "Sort".
Disabling, rather than trusting the planner's choice, keeps the checks independent
of statistics, which vary with what autovacuum did before.
"""

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from clinics.models import Location, StaffMember
from leads.models import Lead
from leads.selectors import LeadFilters, lead_filters_apply, lead_list_for_user
from tests.support.factories import LocationFactory
from tests.support.staff_api import client_for, leads_bulk_create, staff

pytestmark = pytest.mark.django_db

LEAD_SEQ_SCAN = re.compile(r"Seq Scan on leads_lead\b")
TREATMENT_SEQ_SCAN = re.compile(r"Seq Scan on leads_leadtreatment\b")


def _index_on(table: str, column: str) -> str:
    """The name of the single-column index Django made for a foreign key."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    name: str = next(
        name
        for name, about in constraints.items()
        if about["index"] and about["columns"] == [column] and not about["unique"]
    )
    return name


def _explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _scans_a_table(plan: str) -> bool:
    return bool(LEAD_SEQ_SCAN.search(plan) or TREATMENT_SEQ_SCAN.search(plan))


def _page_query(captured: CaptureQueriesContext) -> str:
    """The query that reads the page of leads (not the session, user, treatments)."""
    return next(
        query["sql"]
        for query in captured.captured_queries
        if 'FROM "leads_lead"' in query["sql"] and "LIMIT" in query["sql"]
    )


@pytest.fixture
def coordinator(location: Location) -> User:
    """A coordinator of one of two locations sharing 10,000 analysed leads."""
    if connection.vendor != "postgresql":
        pytest.skip("The index checks read PostgreSQL's EXPLAIN.")
    other = LocationFactory.create(slug="kadikoy")
    owners = [staff(locations=[location]) for _ in range(8)]
    leads_bulk_create(10_000, locations=[location, other], owners=owners)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
        cursor.execute("ANALYZE leads_leadtreatment")
    return owners[0]


def test_each_filter_is_served_by_its_own_index(
    coordinator: User, location: Location
) -> None:
    now = timezone.now()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"statuses": ["new", "contacted"]}, "lead_status_idx"),
        ({"priorities": ["high"]}, "lead_priority_idx"),
        ({"owner_id": coordinator.pk}, _index_on("leads_lead", "owner_id")),
        ({"unassigned": True}, _index_on("leads_lead", "owner_id")),
        ({"overdue": True}, "lead_awaiting_contact_idx"),
        # Either composite index that starts with the location.
        ({"location": location}, "lead_location_"),
        ({"treatment": "prp"}, "lead_treatment_idx"),
        ({"outcome": "contraindicated"}, "lead_outcome_idx"),
        ({"treatment": "mesotherapy", "outcome": "deferred"}, "lead_treatment_idx"),
        ({"created_after": now - dt.timedelta(days=3)}, "lead_created_idx"),
        ({"created_before": now - dt.timedelta(days=300)}, "lead_created_idx"),
        ({"email_key": "patient42@example.com"}, "lead_email_key_idx"),
        ({"phone": "+905320000042"}, "lead_phone_idx"),
        ({"name": "atient 0042"}, "lead_name_trgm_idx"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # until the test's rollback

    unserved = {}
    for filters, index in cases:
        # The list's own conditions, without the scope and the merged-lead check:
        # those have indexes of their own that would hide a filter without one.
        queue = lead_filters_apply(
            Lead.objects.all(), filters=LeadFilters(**filters), now=now
        )
        plan = queue.order_by().explain()
        if index not in plan or _scans_a_table(plan):
            unserved[str(filters)] = plan

    scope = lead_list_for_user(user=coordinator).order_by().explain()
    assert "lead_location_" in scope, scope
    assert unserved == {}


def _sql_of_page(client: APIClient, url: str, params: dict[str, Any]) -> str:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return _page_query(captured)


def test_every_page_of_every_order_walks_its_index_from_the_cursor(
    coordinator: User,
) -> None:
    orders = {
        "due": "lead_due_idx",
        "-created": "lead_created_idx",
        "created": "lead_created_idx",
        "-score": "lead_score_idx",
    }
    clients = {
        "coordinator": client_for(coordinator),
        "clinic admin": client_for(staff(StaffMember.Role.CLINIC_ADMIN)),
    }

    with connection.cursor() as cursor:
        # A plan that sorts, or scans the table, only when no index gives the order.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")

    unserved = {}
    for who, client in clients.items():
        for ordering, index in orders.items():
            first = client.get("/api/v1/leads", {"ordering": ordering}).json()
            sql = _sql_of_page(client, first["next"], {})
            plan = _explain(sql)
            top = plan.split("->")[0] + plan.split("->")[1]
            if (
                index not in plan
                or "Index Cond" not in plan  # from the cursor, not the top
                or "Sort" in top
                or _scans_a_table(plan)
            ):
                unserved[f"{who} {ordering}"] = plan
    assert unserved == {}


def test_the_list_sql_for_every_filter_reads_indexes_only(coordinator: User) -> None:
    queues = [
        {"status": "new"},
        {"priority": "low"},
        {"owner": "none"},
        {"owner": "me"},
        {"overdue": "true"},
        {"location": "kadikoy"},
        {"treatment": "laser_ipl", "outcome": "eligible"},
        {"outcome": "deferred"},
        {"created_after": "2026-01-01", "created_before": "2026-06-30"},
        {"q": "patient77@example.com"},
        {"q": "0532 000 00 77"},
        {"q": "Patient 0077"},
    ]
    client = client_for(coordinator)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")

    unserved = {}
    for params in queues:
        for ordering in ("due", "-created", "-score"):
            sql = _sql_of_page(
                client, "/api/v1/leads", {**params, "ordering": ordering}
            )
            plan = _explain(sql)
            if "Index" not in plan or _scans_a_table(plan):
                unserved[f"{params} {ordering}"] = plan
    assert unserved == {}
