"""A person's data wherever the apps keep it, for their rights of access and
erasure (GDPR art. 15 and 17, KVKK art. 11).

Each app that holds personal data registers one holder in its AppConfig.ready: it
exports its part as JSON-safe values and erases it, given the person's rows by id.
The app that knows who a person is (leads: the lead, the leads merged into it and
their submissions) asks every holder, in registration order, without importing
the apps above it. A holder's erase keeps what aggregates need (counts, outcomes,
dates) and removes or blanks the rest; it must be safe to run twice.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User


@dataclass(frozen=True)
class Person:
    """The rows that are one person's, by id."""

    lead_ids: tuple[int, ...]
    submission_ids: tuple[int, ...]
    emails: tuple[str, ...]


@dataclass(frozen=True)
class Holder:
    """One app's part: `export` (for the staff member who asked: health data is
    audited) and `erase`, which says how many rows of each kind it changed."""

    name: str
    export: Callable[[Person, User], dict[str, Any]]
    erase: Callable[[Person], dict[str, int]]


_holders: dict[str, Holder] = {}


def personal_data_holder_register(holder: Holder) -> None:
    """Add `holder` (once per name: registering again replaces it)."""
    _holders[holder.name] = holder


def personal_data_holders() -> list[Holder]:
    """Every registered holder, in registration order (the apps' order)."""
    return list(_holders.values())
