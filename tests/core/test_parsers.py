import io
import json
import time

import pytest
from rest_framework import exceptions

from core.parsers import MAX_DEPTH, LimitedJSONParser, json_depth
from core.text import text_is_storable, unstorable_paths


def _parse(body: str | bytes) -> object:
    raw = body.encode() if isinstance(body, str) else body
    return LimitedJSONParser().parse(io.BytesIO(raw), "application/json", {})


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"note": "[[[[{{{{"}', 1),
        ('["\\"[[[", "\\\\", [[]]]', 3),
        ('"unterminated [[[[', 0),
    ],
)
def test_brackets_inside_strings_do_not_count_towards_the_depth(
    text: str, depth: int
) -> None:
    assert json_depth(text) == depth


def test_a_body_nested_just_deep_enough_is_parsed_and_one_deeper_is_refused() -> None:
    deepest = "[" * MAX_DEPTH + "]" * MAX_DEPTH

    assert _parse(deepest) is not None
    with pytest.raises(exceptions.ParseError) as refused:
        _parse("[" + deepest + "]")
    assert refused.value.get_codes() == "json_too_deep"


def test_the_depth_scan_of_a_large_hostile_body_takes_well_under_a_second() -> None:
    # Two megabytes of escaped quotes and brackets: a backtracking scan would not end.
    hostile = '"' + '\\"[' * 700_000

    started = time.perf_counter()
    json_depth(hostile)
    json_depth("[]" * 1_000_000)

    assert time.perf_counter() - started < 1.0


def test_a_surrogate_pair_is_one_character_and_accepted() -> None:
    assert _parse('{"full_name": "Ay\\u015fe \\ud83d\\ude00"}') == {
        "full_name": "Ayşe 😀"
    }


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"text": "a\x00b"}, ["text"]),
        ({"answers": {"full_name": "\ud800"}}, ["answers.full_name"]),
        ({"answers": {"times": ["morning", "\udfff"]}}, ["answers.times"]),
        ({"source": {"utm\x00": "x"}}, ["source"]),
        (["\x00"], ["non_field_errors"]),
    ],
)
def test_nul_and_lone_surrogates_are_refused_naming_the_field_that_holds_them(
    body: object, fields: list[str]
) -> None:
    with pytest.raises(exceptions.ValidationError) as refused:
        _parse(json.dumps(body))

    assert isinstance(refused.value.detail, dict)
    assert sorted(refused.value.detail) == fields


@pytest.mark.parametrize(
    "body",
    [b'{"a": "\xed\xa0\x80"}', b'{"a": NaN}', b'{"a": 1e5', b"9" * 5000],
)
def test_bodies_that_are_not_json_are_a_parse_error(body: bytes) -> None:
    with pytest.raises(exceptions.ParseError):
        _parse(body)


def test_text_with_nul_or_a_lone_surrogate_is_not_storable() -> None:
    assert text_is_storable("Ayşe Yılmaz 😀")
    assert not text_is_storable("a\x00")
    assert not text_is_storable("\ud800")
    assert unstorable_paths({"a": [{"b": "\x00"}], "c": "fine"}) == ["a.b"]


def test_a_charset_python_does_not_know_is_a_parse_error() -> None:
    with pytest.raises(exceptions.ParseError):
        LimitedJSONParser().parse(
            io.BytesIO(b"{}"), "application/json", {"encoding": "no-such-codec"}
        )
