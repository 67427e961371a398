"""`make run`'s demo: a queue with people in it, made as real questionnaires are."""

import pytest
from django.core.management import call_command

from intake.demo import DEMO_PEOPLE, demo_submissions_load
from intake.models import QuestionnaireVersion, Submission
from leads.models import Lead


@pytest.mark.django_db
def test_the_demo_fills_the_queue_once_with_screened_leads(
    published: QuestionnaireVersion,
) -> None:
    call_command("load_demo_clinic", verbosity=0)

    made = demo_submissions_load()
    again = demo_submissions_load()

    assert made == len(DEMO_PEOPLE)
    assert again == 0
    assert Lead.objects.count() == len(DEMO_PEOPLE)
    assert Lead.objects.filter(location__slug="berlin").count() == 2
    warfarin = Submission.objects.get(full_name="Mehmet Demir")
    outcomes = warfarin.screening_results.get(is_current=True).outcomes
    assert outcomes["mesotherapy"] != "eligible"
    everyone_else = Submission.objects.get(full_name="Ayşe Yılmaz")
    outcomes = everyone_else.screening_results.get(is_current=True).outcomes
    assert outcomes["mesotherapy"] == "eligible"
