"""How long a questionnaire takes: from the questions a person will see.

Questions behind an enableWhen count only once their gate opens, so an estimate made
before any answer is the shortest path ("most people"); the longest path counts them
all. The seconds per question are a typist's on a phone, rounded up.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from intake.questionnaires.definition.enable import item_is_enabled
from intake.questionnaires.definition.model import Definition, Item

SECONDS_PER_QUESTION = {
    "boolean": 6,
    "choice": 10,
    "integer": 10,
    "decimal": 10,
    "date": 15,
    "string": 20,
    "text": 45,
    "attachment": 30,
}
SECONDS_PER_PAGE = 10  # reading the title, pressing Next, the page loading


@dataclass(frozen=True)
class Length:
    questions: int
    minutes: int


def length_ahead(
    definition: Definition,
    answers: Mapping[str, Any],
    *,
    from_step: int = 1,
    every_question: bool = False,
    skip: Iterable[str] = (),
) -> Length:
    """Questions and whole minutes from step `from_step` (1-based) to the end.

    `every_question` counts the longest path; otherwise a question counts when its
    enableWhen holds for `answers` (an unanswered gate keeps it closed). `skip`
    names questions not asked on the steps (consent, asked at the start).
    """
    skipped = set(skip)
    questions, seconds = 0, 0
    steps = definition.steps[from_step - 1 :]
    for step in steps:
        for item in _shown(step.items, answers, every_question=every_question):
            if item.link_id in skipped:
                continue
            questions += 1
            seconds += SECONDS_PER_QUESTION.get(item.type, 10) + (
                5 if item.repeats else 0
            )
    seconds += SECONDS_PER_PAGE * len(steps)
    return Length(questions=questions, minutes=max(1, math.ceil(seconds / 60)))


def _shown(
    items: Iterable[Item], answers: Mapping[str, Any], *, every_question: bool
) -> Iterable[Item]:
    for item in items:
        if not every_question and not item_is_enabled(item, answers):
            continue
        if item.type == "group":
            yield from _shown(item.items, answers, every_question=every_question)
        elif item.is_question:
            yield item
