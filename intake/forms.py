"""Patient-facing forms: the consent page and one form per questionnaire step.

Fields only convert what the browser sent; what an answer must be is decided by
intake.validators, the same rules the API applies.
"""

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import BusinessError
from intake.questionnaires.definition import Definition, Item
from intake.validators import answers_clean, consent_message, localised

HONEYPOT = "website"
# Asked on the start page, before any health question, not again on its own step.
ASKED_AT_START = frozenset({"consent_health"})
YES, NO = "yes", "no"


class StartForm(forms.Form):
    """Explicit consent to health-data processing: nothing is stored without it."""

    consent_health = forms.BooleanField(required=False)
    website = forms.CharField(required=False)

    def clean_consent_health(self) -> bool:
        if not self.cleaned_data.get("consent_health"):
            raise forms.ValidationError(consent_message())
        return True

    def clean_website(self) -> str:
        return honeypot_check(self.cleaned_data.get("website", ""))


class ResumeEmailForm(forms.Form):
    """Where to send the resume link; a part of each step's form, named apart from
    the questionnaire's own email question."""

    resume_email = forms.EmailField(
        label=gettext_lazy("Your email address"),
        error_messages={
            "required": gettext_lazy("Please enter your email address."),
            "invalid": gettext_lazy(
                "Please enter an email address like name@example.com."
            ),
        },
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked later by intake.photos."""

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(one, initial) for one in files]


def honeypot_check(value: str) -> str:
    if value:
        raise forms.ValidationError(
            _("Please leave this field empty: it is there to stop automated spam.")
        )
    return value


class StepForm(forms.Form):
    """The questions of one step, typed; cleaned answers are in `answers`."""

    def __init__(
        self,
        *args: Any,
        definition: Definition,
        step: Item,
        earlier_answers: Mapping[str, Any],
        locations: Sequence[tuple[str, str]],
        today: dt.date,
        phone_regions: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["initial"] = {
            link_id: _initial(definition, link_id, value)
            for link_id, value in earlier_answers.items()
        }
        super().__init__(*args, **kwargs)
        self.definition = definition
        self.step = step
        self.earlier_answers = dict(earlier_answers)
        self.location_codes = [code for code, _name in locations]
        self.phone_regions = dict(phone_regions or {})
        self.today = today
        self.answers: dict[str, Any] = {}
        # Why sending the finished questionnaire was refused, shown above the form.
        self.submit_error: BusinessError | None = None
        self.files_uploaded: list[UploadedFile] = []
        for item in step_questions(step):
            self.fields[item.link_id] = _field_for(item, locations)
        self.fields[HONEYPOT] = forms.CharField(
            required=False,
            label=gettext_lazy("Leave this field empty"),
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )

    def clean_website(self) -> str:
        return honeypot_check(self.cleaned_data.get(HONEYPOT, ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        raw: dict[str, Any] = {}
        for item in step_questions(self.step):
            if item.link_id in self.errors:
                continue
            value = cleaned.get(item.link_id)
            if item.type == "attachment":
                self.files_uploaded = list(value or [])
                continue
            raw[item.link_id] = _to_answer(item, value)
        items = [
            item
            for item in step_questions(self.step)
            if item.link_id not in self.errors
        ]
        earlier = {
            k: v for k, v in self.earlier_answers.items() if k not in self.fields
        }
        result = answers_clean(
            self.definition,
            raw,
            items=items,
            earlier_answers=earlier,
            location_codes=self.location_codes,
            phone_regions=self.phone_regions,
            today=self.today,
        )
        for link_id, messages in result.errors.items():
            for message in messages:
                self.add_error(link_id, message)
        self.answers = result.values
        return cleaned

    def partial_answers(self) -> dict[str, Any]:
        """What can be kept of an invalid form (going back keeps valid answers)."""
        return {k: v for k, v in self.answers.items() if k not in self.errors}


def step_questions(step: Item) -> list[Item]:
    """The items of a step the person answers on that step's page."""
    return [
        item
        for item in step.items
        if item.type not in {"group", "display"} and item.link_id not in ASKED_AT_START
    ]


def enable_when_json(item: Item) -> str:
    """The item's enableWhen as JSON for the page's script (empty when none)."""
    if not item.enable_when:
        return ""
    return json.dumps(
        {
            "behavior": item.enable_behavior,
            "conditions": [
                {"question": c.question, "operator": c.operator, "answer": c.answer}
                for c in item.enable_when
            ],
        }
    )


def _field_for(item: Item, locations: Sequence[tuple[str, str]]) -> forms.Field:
    label = localised(item.text)
    common: dict[str, Any] = {"required": False, "label": label}
    if item.type == "boolean":
        if item.link_id.startswith("consent_"):
            return forms.BooleanField(**common)
        return forms.ChoiceField(
            choices=[(YES, _("Yes")), (NO, _("No"))], widget=forms.RadioSelect, **common
        )
    if item.type == "choice":
        choices = (
            list(locations)
            if item.value_set == "locations"
            else [(o.code, localised(o.display)) for o in item.options]
        )
        if item.repeats:
            return forms.MultipleChoiceField(
                choices=choices, widget=forms.CheckboxSelectMultiple, **common
            )
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if item.type == "integer":
        return forms.IntegerField(
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}), **common
        )
    if item.type == "decimal":
        return forms.DecimalField(
            widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            **common,
        )
    if item.type == "date":
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common
        )
    if item.type == "attachment":
        return MultipleFileField(
            widget=MultipleFileInput(
                attrs={"accept": "image/jpeg,image/png,image/webp"}
            ),
            **common,
        )
    if item.type == "text":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    return forms.CharField(widget=_text_input(item.link_id), **common)


def _text_input(link_id: str) -> forms.Widget:
    if link_id == "email":
        return forms.EmailInput(attrs={"autocomplete": "email"})
    if link_id == "phone":
        return forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
    if link_id == "full_name":
        return forms.TextInput(attrs={"autocomplete": "name"})
    return forms.TextInput()


def _to_answer(item: Item, value: Any) -> Any:
    """A typed form value in the stored answer format (None when unanswered)."""
    if value in (None, "", []):
        return None
    if item.type == "boolean":
        if isinstance(value, bool):
            return value
        return value == YES
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _initial(definition: Definition, link_id: str, value: Any) -> Any:
    item = definition.item(link_id)
    if (
        item is not None
        and item.type == "boolean"
        and not link_id.startswith("consent_")
    ):
        return YES if value else NO
    return value
