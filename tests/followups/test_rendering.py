"""The template sandbox: values in, nothing else out."""

import pytest

from followups.rendering import Safe, TemplateError, template_check, template_render

NAMES = {"name", "booking_link", "next_steps"}


def test_values_go_in_and_are_escaped_in_the_html_part_only() -> None:
    source = "Dear {{ name }}, {{next_steps}}"
    values = {"name": "<Ayşe & co>", "next_steps": Safe("<ul><li>x</li></ul>")}

    assert template_render(source, values) == "Dear <Ayşe & co>, <ul><li>x</li></ul>"
    assert template_render(source, values, html_part=True) == (
        "Dear &lt;Ayşe &amp; co&gt;, <ul><li>x</li></ul>"
    )


def test_if_keeps_a_part_only_when_the_value_is_not_empty() -> None:
    source = (
        "A{% if booking_link %}B{% if name %}C{% else %}D{% endif %}"
        "{% else %}E{% endif %}F"
    )

    assert template_render(source, {"booking_link": "x", "name": "y"}) == "ABCF"
    assert template_render(source, {"booking_link": "x"}) == "ABDF"
    assert template_render(source, {}) == "AEF"


@pytest.mark.parametrize(
    "source",
    [
        "{{ lead.email }}",  # no attributes to follow
        "{{ name|upper }}",  # no filters
        "{% load static %}",
        "{% include 'base.html' %}",
        "{% debug %}",
        "{% if name %}never closed",
        "{% endif %}",
        "{{ settings }}",  # not a value these messages have
    ],
)
def test_anything_but_values_and_ifs_is_refused_when_saved(source: str) -> None:
    with pytest.raises(TemplateError):
        template_check(source, names=NAMES)


def test_a_name_not_offered_renders_as_nothing() -> None:
    assert template_render("[{{ secret_key }}]", {"name": "x"}) == "[]"
