"""A submission starts a lead or joins the open lead of the same person."""

import pytest

from clinics.models import Location
from intake.models import QuestionnaireVersion
from intake.services.submissions import submission_create
from leads.matching import email_key, names_agree
from leads.models import Lead, LeadEvent
from leads.services.timeline import lead_transition
from tests.support.answers import complete_answers
from tests.support.factories import StaffUserFactory
from tests.support.submitting import lead_of, submit

GMAIL = {"plus_tags", "gmail_dots"}


@pytest.mark.parametrize(
    ("one", "other", "matching", "same"),
    [
        ("Ayse.Yilmaz+x@Gmail.com", "ayseyilmaz@gmail.com", GMAIL, True),
        ("ayse.yilmaz@googlemail.com", "ayseyilmaz@gmail.com", {"gmail_dots"}, True),
        ("ayse.yilmaz@example.com", "ayseyilmaz@example.com", {"gmail_dots"}, False),
        ("ayse.yilmaz@example.com", "ayseyilmaz@example.com", {"all_dots"}, True),
        ("ayse+a@example.com", "ayse@example.com", set(), False),
        ("AYSE@Example.COM", "ayse@example.com", set(), True),
    ],
)  # fmt: skip
def test_email_matching_follows_the_clinic_setting(
    one: str, other: str, matching: set[str], same: bool
) -> None:
    assert (
        email_key(one, matching=matching) == email_key(other, matching=matching)
    ) is same


def test_names_agree_without_case_accents_or_a_middle_name() -> None:
    assert names_agree("Ayşe Yılmaz", "AYSE YILMAZ")
    assert names_agree("Ayşe Yılmaz", "Ayşe Nur Yılmaz")
    assert not names_agree("Ayşe Yılmaz", "Mehmet Yılmaz")


def test_two_submissions_with_differently_written_email_and_phone_make_one_lead(
    published: QuestionnaireVersion,
) -> None:
    first = submit(
        published, email="Ayse.Yilmaz+clinic@Gmail.com", phone="0532 123 45 67"
    )
    second = submit(published, email="ayseyilmaz@gmail.com", phone="+90 (532) 123-4567")

    lead = Lead.objects.get()
    assert lead_of(first) == lead_of(second) == lead
    timeline = lead.events.filter(kind=LeadEvent.Kind.SUBMITTED)
    assert {event.submission for event in timeline} == {first, second}
    assert lead.email == "ayseyilmaz@gmail.com"  # the newest way they wrote it


def test_same_phone_and_name_with_another_email_joins_the_lead(
    published: QuestionnaireVersion,
) -> None:
    first = submit(published, email="ayse@example.com", full_name="Ayşe Yılmaz")
    second = submit(published, email="ayse.work@example.org", full_name="AYSE YILMAZ")

    assert lead_of(first) == lead_of(second)


def test_same_phone_with_another_name_is_flagged_for_a_coordinator(
    published: QuestionnaireVersion,
) -> None:
    mother = submit(published, email="ayse@example.com", full_name="Ayşe Yılmaz")
    daughter = submit(published, email="zeynep@example.com", full_name="Zeynep Yılmaz")

    first, second = lead_of(mother), lead_of(daughter)
    assert first != second
    assert second.match_uncertain_with == first
    first.refresh_from_db()
    assert first.match_uncertain_with == second
    for lead in (first, second):
        assert lead.events.filter(kind=LeadEvent.Kind.MATCH_UNCERTAIN).count() == 1


def test_a_closed_lead_is_not_joined_again(published: QuestionnaireVersion) -> None:
    first = lead_of(submit(published))
    lead_transition(
        lead=first,
        to_status=Lead.Status.LOST,
        actor=StaffUserFactory.create(),
        lost_reason=Lead.LostReason.PRICE,
    )

    again = lead_of(submit(published))

    assert again != first
    assert Lead.objects.count() == 2


def test_sending_one_submission_twice_hands_it_over_once(
    published: QuestionnaireVersion,
) -> None:
    first = submission_create(
        version=published,
        language="en",
        answers=complete_answers(),
        idempotency_key="retried-key",
        source={},
    )
    again = submission_create(
        version=published,
        language="en",
        answers=complete_answers(),
        idempotency_key="retried-key",
        source={},
    )

    assert (first.created, again.created) == (True, False)
    assert again.submission == first.submission
    lead = lead_of(first.submission)
    assert lead.events.filter(kind=LeadEvent.Kind.SUBMITTED).count() == 1
    assert Lead.objects.count() == 1


def test_a_new_lead_has_a_deadline_and_its_treatments_with_their_outcomes(
    published: QuestionnaireVersion,
) -> None:
    lead = lead_of(
        submit(published, allergies=["vitamin_k"], blood_thinners=["aspirin"])
    )

    assert lead.first_contact_due_at > lead.created_at
    outcomes = dict(lead.treatments.values_list("treatment", "outcome"))
    assert outcomes == {"mesotherapy": "contraindicated", "laser_ipl": "review"}


def test_a_location_with_broken_opening_hours_still_takes_submissions(
    published: QuestionnaireVersion, location: Location
) -> None:
    location.opening_hours = {}
    location.save()

    lead = lead_of(submit(published))

    assert lead.first_contact_due_at > lead.created_at
