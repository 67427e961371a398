"""The API's JSON parser: bounded in size and depth, with text that can be stored.

A body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 before it is read (Django
refuses it; core.error_responses gives that the error shape). Nesting deeper than
MAX_DEPTH answers 400 `json_too_deep`, found by a linear scan before parsing: the
json module and all that follows it recurse, and a RecursionError caught halfway
leaves no safe state to go on from. A NUL or a lone surrogate anywhere in the body,
in a key or a value, answers 400 naming the field that holds it.
"""

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, parsers

from core.text import unstorable_paths

# Bodies this API takes nest three levels (answers, a list, its items): room to
# spare, and far below the interpreter's recursion limit.
MAX_DEPTH = 32
UNSTORABLE_MESSAGE = (
    "This text holds a NUL character or an unpaired surrogate (\\u0000, "
    "\\ud800-\\udfff), which cannot be stored."
)

# A string (its closing quote optional, so that an unterminated one costs one pass),
# then anything that is not a bracket: what stays is the brackets outside strings.
_STRING = re.compile(r'"(?:[^"\\]+|\\.)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonTooDeep(exceptions.ParseError):
    default_detail = f"JSON nested deeper than {MAX_DEPTH} levels is not accepted."
    default_code = "json_too_deep"


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "body_too_large"


def json_depth(text: str) -> int:
    """How deep the arrays and objects of JSON `text` nest; brackets inside strings
    do not count. Linear in the length of `text`, recursing nowhere."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class LimitedJSONParser(parsers.JSONParser):
    """JSONParser with a depth limit and storable text; DRF reads the body through
    request.body, which DATA_UPLOAD_MAX_MEMORY_SIZE bounds."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            text = stream.read().decode(encoding)
        except (LookupError, UnicodeDecodeError) as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from error
        if json_depth(text) > MAX_DEPTH:
            raise JsonTooDeep()
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from error
        fields = unstorable_paths(data)
        if fields:
            raise exceptions.ValidationError(
                {field or "non_field_errors": [UNSTORABLE_MESSAGE] for field in fields}
            )
        return data
