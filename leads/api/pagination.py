"""Keyset (cursor) pages over (column, id), each pair served by a composite index.

DRF's CursorPagination keys on the first ordering field only and steps over ties with
an offset; keying on the pair makes every page one index range scan, however deep.
"""

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models
from django.db.models import Q, QuerySet, Value
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from core.errors import BusinessError

M = TypeVar("M", bound=models.Model)
# A page's rows: model instances, or the dicts of a .values() queryset.
R = TypeVar("R")

CURSOR_PARAM = "cursor"


@extend_schema_field(
    {"type": "string", "pattern": r"^[-_A-Za-z0-9]+=*$", "maxLength": 500}
)
class CursorField(serializers.CharField):
    """A `next` link's cursor: URL-safe base64, as _encode writes it (whether it
    is one of ours, _decode says)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=500, **kwargs)


class CursorInvalid(BusinessError):
    code = "cursor_invalid"


@dataclass(frozen=True)
class KeysetPage(Generic[R]):
    rows: list[R]
    next_cursor: str | None

    def next_url(self, request: Request) -> str | None:
        """This request's URL with the next page's cursor, or None on the last page."""
        if self.next_cursor is None:
            return None
        return str(
            replace_query_param(
                request.build_absolute_uri(), CURSOR_PARAM, self.next_cursor
            )
        )


def _refused() -> CursorInvalid:
    return CursorInvalid(
        "This cursor is not valid here: follow the `next` link of the same list.",
        fields={CURSOR_PARAM: ["Use the `next` link as it was given."]},
    )


def _encode(name: str, values: list[Any], pk: int) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    # One key is stored bare: cursors handed out before several keys stay valid.
    raw = json.dumps(
        {"o": name, "v": plain if len(plain) > 1 else plain[0], "id": pk},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, *, name: str, fields: list[Any]) -> tuple[list[Any], int]:
    """The cursor's values, one per key (`fields`: the model field of each, None
    for an integer annotation), and its id; anything else is refused."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise _refused() from error
    if not isinstance(data, dict) or data.get("o") != name:
        raise _refused()
    pk, value = data.get("id"), data.get("v")
    values = value if len(fields) > 1 else [value]
    if type(pk) is not int or not isinstance(values, list):
        raise _refused()
    if len(values) != len(fields):
        raise _refused()
    return [_typed(v, field) for v, field in zip(values, fields, strict=True)], pk


def _typed(value: Any, field: Any) -> Any:
    if not isinstance(field, models.DateTimeField):
        if type(value) is not int:
            raise _refused()
        return value
    if not isinstance(value, str):
        raise _refused()
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise _refused() from error
    if moment.tzinfo is None:
        raise _refused()
    return moment


def _field(queryset: QuerySet[M, Any], key: str) -> Any:
    try:
        return queryset.model._meta.get_field(key)
    except FieldDoesNotExist:
        return None  # an annotation


def _value(row: Any, key: str) -> Any:
    return row[key] if isinstance(row, dict) else getattr(row, key)


def _page(
    ordered: QuerySet[M, R], *, name: str, keys: tuple[str, ...], page_size: int
) -> KeysetPage[R]:
    rows = list(ordered[: page_size + 1])
    if len(rows) <= page_size:
        return KeysetPage(rows=rows, next_cursor=None)
    rows = rows[:page_size]
    last = rows[-1]
    return KeysetPage(
        rows=rows,
        next_cursor=_encode(
            name, [_value(last, key) for key in keys], _value(last, "id")
        ),
    )


def keyset_page(
    queryset: QuerySet[M, R],
    *,
    name: str,
    field: str,
    descending: bool,
    cursor: str | None,
    page_size: int,
) -> KeysetPage[R]:
    """`page_size` rows of `queryset` in (field, id) order after `cursor`, and the
    cursor of the next page (rows may be models or .values() dicts with `field`
    and `id`). `name` ties a cursor to its ordering: a cursor of
    another ordering or list is refused (CursorInvalid, 400)."""
    direction = "lt" if descending else "gt"
    ordered = queryset.order_by(
        *((f"-{field}", "-id") if descending else (field, "id"))
    )
    if cursor:
        [value], pk = _decode(cursor, name=name, fields=[_field(queryset, field)])
        ordered = ordered.filter(
            # The redundant bound makes the index condition start at the cursor
            # instead of filtering every row before it.
            Q(**{f"{field}__{direction}e": value}),
            Q(**{f"{field}__{direction}": value})
            | Q(**{field: value, f"id__{direction}": pk}),
        )
    return _page(ordered, name=name, keys=(field,), page_size=page_size)


def keyset_page_tiers(
    queryset: QuerySet[M],
    *,
    name: str,
    tiers: Sequence[Q],
    field: str,
    cursor: str | None,
    page_size: int,
) -> KeysetPage[M]:
    """`page_size` rows of `queryset` after `cursor` in the order of ("tier",
    `field`, id), a row's tier being the index of the one condition of `tiers`
    it meets (they must not overlap and must cover every row): for an order no
    single column holds, such as the queue's urgency (staff.selectors). Each
    tier is read in (field, id) order in its own part of one UNION ALL, each
    part stopping after a page, so a page costs the same however many rows the
    tiers hold; the page's rows are then read by id (two queries, and its
    prefetches)."""
    first_tier, after = 0, None
    if cursor:
        (tier, value), pk = _decode(
            cursor, name=name, fields=[None, _field(queryset, field)]
        )
        if not 0 <= tier < len(tiers):
            raise _refused()
        first_tier, after = tier, (value, pk)
    plain = queryset.select_related(None).prefetch_related(None)
    parts = []
    for number in range(first_tier, len(tiers)):
        part = plain.filter(tiers[number])
        if after is not None and number == first_tier:
            value, pk = after
            part = part.filter(
                Q(**{f"{field}__gte": value}),
                Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk}),
            )
        parts.append(
            part.annotate(tier=Value(number, output_field=models.IntegerField()))
            .order_by(field, "id")
            .values_list("tier", field, "id")[: page_size + 1]
        )
    head, *rest = parts
    if not rest:  # the last tier: one part, in order already
        keys = list(head)
    elif connections[queryset.db].features.supports_slicing_ordering_in_compound:
        combined = head.union(*rest, all=True).order_by("tier", field, "id")
        keys = list(combined[: page_size + 1])
    else:
        # SQLite (make run) cannot order or cut a UNION's parts: read them in
        # turn until a page is full (at most one query per tier).
        keys = []
        for part in parts:
            keys += list(part)
            if len(keys) > page_size:
                break
        keys = keys[: page_size + 1]
    found = queryset.in_bulk([pk for _tier, _value, pk in keys])
    rows = [found[pk] for _tier, _value, pk in keys[:page_size]]
    if len(keys) <= page_size:
        return KeysetPage(rows=rows, next_cursor=None)
    tier, value, pk = keys[page_size - 1]
    return KeysetPage(rows=rows, next_cursor=_encode(name, [tier, value], pk))
