"""Hypothesis strategies for answer sets that follow the contract.

Hidden items (enableWhen false) are always absent; any other item may be left
unanswered when `missing` is allowed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from tests.support.screening_contract import ITEMS, TODAY, Item, is_enabled

# Past dates, mostly recent enough to matter to the rules (weeks to months).
_DAYS_AGO = st.one_of(st.integers(0, 120), st.integers(0, 800))


def answer_values(item: Item) -> st.SearchStrategy[Any]:
    """Any valid answer to `item`."""
    if item.type == "boolean":
        return st.booleans()
    if item.type == "integer":
        return st.integers(*item.bounds)
    if item.type == "decimal":
        low, high = item.bounds
        return st.one_of(
            st.integers(low, high),
            st.floats(low, high, allow_nan=False, allow_infinity=False),
        )
    if item.type == "date":
        return _DAYS_AGO.map(lambda days: (TODAY - timedelta(days=days)).isoformat())
    if item.type in {"string", "text"}:
        return st.text(max_size=20)
    if not item.repeats:
        return st.sampled_from(item.options)
    others = [code for code in item.options if code != item.exclusive]
    codes = st.lists(st.sampled_from(others), min_size=1, unique=True)
    if item.exclusive is None:
        return codes
    return st.one_of(st.just([item.exclusive]), codes)


@st.composite
def answer_sets(draw: st.DrawFn, *, missing: bool = True) -> dict[str, Any]:
    """An answer set as the form would submit it; with `missing`, some left out."""
    answers: dict[str, Any] = {}
    for item in ITEMS:
        if not is_enabled(item, answers):
            continue
        if missing and draw(st.integers(0, 9)) == 0:
            continue
        answers[item.link_id] = draw(answer_values(item))
    return answers


def birth_dates() -> st.SearchStrategy[date | None]:
    """Adults, minors and the occasional missing birth date."""
    return st.one_of(
        st.none(),
        st.dates(min_value=date(1930, 1, 1), max_value=TODAY),
        st.dates(min_value=TODAY - timedelta(days=20 * 366), max_value=TODAY),
    )


def minor_birth_dates() -> st.SearchStrategy[date]:
    """Birth dates of people not yet 18 on TODAY."""
    eighteenth_birthday_cutoff = date(TODAY.year - 18, TODAY.month, TODAY.day)
    return st.dates(
        min_value=eighteenth_birthday_cutoff + timedelta(days=1), max_value=TODAY
    )
