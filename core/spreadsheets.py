"""CSV cells a spreadsheet shows as written: never runs as a formula."""

import datetime as dt
from typing import Any

# A cell a spreadsheet would run as a formula; names come from the public form.
_FORMULA_STARTS = ("=", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """`value` as a CSV cell: ISO dates, true/false, and text that would start a
    formula quoted with a leading apostrophe (a phone number's + is left alone)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    formula = text.startswith(_FORMULA_STARTS) or (
        text.startswith("+") and not text[1:].isdigit()
    )
    return "'" + text if formula else text
