"""The staff pages' forms: their shapes, choices and messages in the staff
member's language; what they mean is the services' business."""

import uuid
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError as ApiValidationError

from clinics.models import Location
from intake.screening.results import Outcome
from leads.api.queue import LeadSearch, lead_search_parse
from leads.models import Lead
from leads.pipeline import next_statuses
from leads.selectors import LeadFilters
from leads.services.timeline import CallOutcome
from staff.selectors import URGENT

OUTCOME_WORDS = {
    Outcome.ELIGIBLE.value: _("may book"),
    Outcome.REVIEW.value: _("waiting for a physician"),
    Outcome.DEFERRED.value: _("not yet"),
    Outcome.CONTRAINDICATED.value: _("not offered"),
}
CALL_OUTCOMES = [
    (CallOutcome.REACHED, _("Reached")),
    (CallOutcome.NO_ANSWER, _("No answer")),
    (CallOutcome.VOICEMAIL, _("Left a voicemail")),
    (CallOutcome.WRONG_NUMBER, _("Wrong number")),
]
ORDERINGS = [
    (URGENT, _("Most urgent first")),
    ("due", _("Deadline first")),
    ("-created", _("Newest first")),
    ("created", _("Oldest first")),
    ("-score", _("Highest score first")),
]


class QueueFilterForm(forms.Form):
    """The queue's filters, from the query string: every field may be empty."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open")), *Lead.Status.choices],
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("Any priority")), *Lead.Priority.choices],
    )
    owner = forms.ChoiceField(
        label=_("Owner"),
        required=False,
        choices=[("", _("Anyone")), ("me", _("Mine")), ("none", _("Unassigned"))],
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    treatment = forms.ChoiceField(label=_("Treatment"), required=False)
    outcome = forms.ChoiceField(
        label=_("Screening"),
        required=False,
        choices=[("", _("Any outcome")), *OUTCOME_WORDS.items()],
    )
    location = forms.ModelChoiceField(
        label=_("Location"),
        required=False,
        queryset=Location.objects.none(),
        to_field_name="slug",
        empty_label=_("Every location"),
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, email or phone")}
        ),
    )
    ordering = forms.ChoiceField(
        label=_("Order"), required=False, choices=ORDERINGS, initial=URGENT
    )

    def __init__(
        self, *args: Any, locations: Any, names: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["treatment"]).choices = [
            ("", _("Any treatment")),
            *((code, name) for code, name in names.items() if code != "not_sure"),
        ]
        location = cast("forms.ModelChoiceField[Location]", self.fields["location"])
        location.queryset = locations

    def clean_q(self) -> LeadSearch:
        text = self.cleaned_data["q"].strip()
        if not text:
            return LeadSearch()
        try:
            return lead_search_parse(text)
        except ApiValidationError as error:
            raise forms.ValidationError(
                [str(detail) for detail in error.detail]
            ) from error

    def filters(self, *, user: User) -> LeadFilters:
        """The selectors' filters; an open queue (no status asked) leaves out the
        leads nobody works on any more."""
        data = self.cleaned_data
        owner = data.get("owner")
        search: LeadSearch = data.get("q") or LeadSearch()
        status = data.get("status")
        return LeadFilters(
            statuses=[status] if status else OPEN_QUEUE,
            priorities=[data["priority"]] if data.get("priority") else (),
            owner_id=user.pk if owner == "me" else None,
            unassigned=owner == "none",
            overdue=bool(data.get("overdue")),
            location=data.get("location"),
            treatment=data.get("treatment") or "",
            outcome=data.get("outcome") or "",
            email_key=search.email_key,
            phone=search.phone,
            name=search.name,
        )

    def ordering_chosen(self) -> str:
        return self.cleaned_data.get("ordering") or URGENT


# The queue's "Open" tab: leads that still need someone.
OPEN_QUEUE = (
    Lead.Status.NEW,
    Lead.Status.CONTACTED,
    Lead.Status.QUALIFIED,
    Lead.Status.AWAITING_REVIEW,
    Lead.Status.BOOKED,
    Lead.Status.IN_TREATMENT,
)


class CallForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("How did the call go?"), choices=CALL_OUTCOMES, widget=forms.RadioSelect
    )
    summary = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class StatusForm(forms.Form):
    """The moves the pipeline allows from the lead's status, and the reason when
    it is lost."""

    to_status = forms.ChoiceField(label=_("Move to"))
    lost_reason = forms.ChoiceField(
        label=_("Why lost"),
        required=False,
        choices=[("", "—"), *Lead.LostReason.choices],
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args: Any, lead: Lead, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Lead.Status.choices)
        cast(forms.ChoiceField, self.fields["to_status"]).choices = [
            (status, labels[status]) for status in next_statuses(lead.status)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to_status") == Lead.Status.LOST and not data.get("lost_reason"):
            self.add_error("lost_reason", _("Say why the lead is lost."))
        return data


class PersonChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.username


class AssignForm(forms.Form):
    owner = PersonChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args: Any, coordinators: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(PersonChoiceField, self.fields["owner"]).queryset = coordinators


class DecisionForm(forms.Form):
    """A physician's decision on one treatment waiting for review."""

    treatment = forms.CharField(max_length=40, widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        choices=[("cleared", _("Clear")), ("declined", _("Decline"))]
    )
    note = forms.CharField(
        label=_("Note for the record"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BulkForm(forms.Form):
    """What to do with the leads ticked in the queue (`lead`, repeated)."""

    lead = forms.TypedMultipleChoiceField(coerce=uuid.UUID)
    action = forms.ChoiceField(
        choices=[("assign_me", _("Assign to me")), ("close", _("Close as lost"))]
    )
    lost_reason = forms.ChoiceField(
        required=False, choices=[("", "—"), *Lead.LostReason.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any code: the view finds each among the user's leads.
        lead = cast(forms.TypedMultipleChoiceField, self.fields["lead"])
        lead.valid_value = lambda value: True  # type: ignore[method-assign]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "close" and not data.get("lost_reason"):
            self.add_error("lost_reason", _("Say why these leads are lost."))
        return data


class ApiTokenForm(forms.Form):
    """A new API token: what it is for, and for how many days it works."""

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_('What it is for, e.g. "Zapier" or "reporting".'),
    )
    days = forms.IntegerField(label=_("Works for (days)"), min_value=1, max_value=365)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = settings.API_TOKEN_DAYS
