"""Shapes of the intake API: types and formats only; rules live in validators."""

from typing import Any

from rest_framework import serializers


class AnswersField(serializers.DictField):
    """Answers by linkId; each value is checked against its question later."""

    def __init__(self, **kwargs: Any) -> None:
        # null is "not answered", as an absent key is.
        super().__init__(child=serializers.JSONField(allow_null=True), **kwargs)


class SubmissionCreateInputSerializer(serializers.Serializer[Any]):
    language = serializers.ChoiceField(choices=["en", "tr"], default="en")
    answers = AnswersField(
        help_text="Answers by question linkId, contact and consent items included; "
        "see GET /api/v1/questionnaires/{slug}."
    )
    # A field named "source" clashes only in the stubs: the metaclass takes declared
    # fields off the class.
    source = serializers.DictField(  # type: ignore[assignment]
        child=serializers.CharField(max_length=300), required=False
    )
    website = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Honeypot: leave empty. A filled value is refused.",
    )


class NextStepSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(
        choices=["book", "review", "deferred", "not_offered"]
    )
    treatment = serializers.CharField(help_text="The treatment's code")
    treatment_name = serializers.CharField(help_text="In the submission's language")
    sentences = serializers.ListField(child=serializers.CharField())
    reconsider_on = serializers.DateField(allow_null=True)
    until = serializers.CharField()


class FollowUpSerializer(serializers.Serializer[Any]):
    contact_by = serializers.ChoiceField(choices=["coordinator"])
    contact_channel = serializers.CharField(help_text="phone, whatsapp or email")
    contact_channel_name = serializers.CharField()
    booking_link = serializers.BooleanField(
        help_text="Whether a link to choose a time will be sent to the person"
    )
    message = serializers.CharField(help_text="What happens next, in their language")


class OfferedTimeSerializer(serializers.Serializer[Any]):
    starts_at = serializers.DateTimeField()
    text = serializers.CharField(help_text="The local day and time, in words")
    choice = serializers.CharField(
        help_text="Post it as `time` to the booking link's book/ page to book it"
    )


class OfferedAppointmentSerializer(serializers.Serializer[Any]):
    treatment = serializers.CharField()
    name = serializers.CharField(help_text="In the submission's language")
    duration_minutes = serializers.IntegerField()
    times = OfferedTimeSerializer(many=True, help_text="The first free times")


class BookingOfferSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(
        help_text="The person's signed booking page: more days, and later moving "
        "or cancelling; no login"
    )
    expires_at = serializers.DateTimeField()
    time_zone = serializers.CharField()
    location_name = serializers.CharField()
    appointments = OfferedAppointmentSerializer(many=True)


class SubmissionCreatedSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    next_steps = NextStepSerializer(many=True)
    follow_up = FollowUpSerializer()
    booking = BookingOfferSerializer(
        allow_null=True,
        help_text="What the person may book now, on the spot; null when a "
        "coordinator or physician comes first",
    )


class QuestionnaireOutputSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    version = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    definition = serializers.JSONField(
        help_text="The questionnaire as FHIR-like data (docs/questionnaire.md)"
    )
    locations = serializers.ListField(child=serializers.DictField())


class ScreeningEvaluateInputSerializer(serializers.Serializer[Any]):
    answers = AnswersField()
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)


class RuleSetOutputSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    version = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    definition = serializers.JSONField()


class OverrideSerializer(serializers.Serializer[Any]):
    treatment = serializers.CharField()
    decision = serializers.CharField()
    note = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by.get_username")
    decided_at = serializers.DateTimeField()


class RuleExplanationSerializer(serializers.Serializer[Any]):
    outcome = serializers.CharField()
    reason = serializers.CharField()
    answers = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()  # type: ignore[assignment]
    reconsider_on = serializers.DateField(allow_null=True)


class TreatmentExplanationSerializer(serializers.Serializer[Any]):
    """One treatment's outcome and the rules behind it; the lead health endpoint
    shows the same shape."""

    treatment = serializers.CharField()
    outcome = serializers.CharField(help_text="As the rules decided.")
    effective = serializers.CharField(help_text="After physician decisions.")
    rules = RuleExplanationSerializer(many=True)


class SubmissionScreeningOutputSerializer(serializers.Serializer[Any]):
    submission = serializers.UUIDField()
    rule_set_version = serializers.CharField(allow_null=True)
    evaluated_on = serializers.DateField(allow_null=True)
    effective_outcomes = serializers.DictField(child=serializers.CharField())
    explanations = TreatmentExplanationSerializer(
        many=True, help_text="Each outcome with the answers that caused it, in words."
    )
    result = serializers.JSONField(allow_null=True)
    overrides = OverrideSerializer(many=True)
