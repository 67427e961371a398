"""Text that can be stored and sent back: no NUL, no lone surrogate.

PostgreSQL text refuses NUL (U+0000), and a lone surrogate (U+D800 to U+DFFF, which
JSON can spell as "\\ud800") has no UTF-8 encoding: either one fails the write, or
the response that quotes it, with a 500 instead of a message.
"""

import re
from collections.abc import Mapping
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_is_storable(text: str) -> bool:
    """False when `text` holds a NUL or a lone surrogate."""
    return _UNSTORABLE.search(text) is None


def unstorable_paths(data: Any) -> list[str]:
    """The dotted paths ("answers.full_name") of the strings in JSON-shaped `data`
    that are not storable, sorted; "" is `data` itself. A bad key names the object
    that holds it. Iterative: any depth is safe."""
    found: set[str] = set()
    pending: list[tuple[tuple[str, ...], Any]] = [((), data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if not text_is_storable(value):
                found.add(".".join(path))
        elif isinstance(value, Mapping):
            for key, child in value.items():
                if not isinstance(key, str) or text_is_storable(key):
                    pending.append(((*path, str(key)), child))
                else:
                    # Never the key itself: a response could not even quote it.
                    found.add(".".join(path))
        elif isinstance(value, list | tuple):
            pending.extend((path, child) for child in value)
    return sorted(found)
