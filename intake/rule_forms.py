"""The admin's rule editor: one small form per rule of a draft rule-set version.

A rule's condition stays JSON (docs/screening.md has the grammar); everything a medical
director changes most (class, wording, sources, deferral) is a plain field.
"""

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

OUTCOMES = [
    ("contraindicated", _("contraindicated: not offered")),
    ("deferred", _("deferred: not now, offered again later")),
    ("review", _("review: a physician clears it first")),
    ("info", _("info: no effect on eligibility")),
]
TEXTAREA = forms.Textarea(attrs={"rows": 2, "cols": 80})


class RuleForm(forms.Form):
    rule_id = forms.RegexField(
        regex=r"^[a-z][a-z0-9_]*$",
        label=_("Id"),
        help_text=_(
            "Stable: stored results refer to it. Never reuse one for a new rule."
        ),
    )
    treatments = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, label=_("Treatments")
    )
    # A blank first choice: the new-rule form left as it is stays unchanged (a
    # select's first option would be sent, and every save would fail on it).
    outcome = forms.ChoiceField(choices=[("", "—"), *OUTCOMES], label=_("Outcome"))
    when = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        label=pgettext_lazy("a screening rule's condition", "When"),
        help_text=_(
            'The condition: {"item": "blood_thinners", "any_of": ["warfarin"]}'
        ),
    )
    reason = forms.CharField(
        widget=TEXTAREA, label=_("Reason"), help_text=_("For staff.")
    )
    patient_en = forms.CharField(widget=TEXTAREA, label=_("Patient text (English)"))
    patient_tr = forms.CharField(widget=TEXTAREA, label=_("Patient text (Turkish)"))
    defer_after = forms.ChoiceField(
        required=False, label=_("Deferred until some time after the date answered to")
    )
    defer_days = forms.IntegerField(required=False, min_value=0, label=_("plus days"))
    defer_months = forms.IntegerField(
        required=False, min_value=0, label=_("plus months")
    )
    until_en = forms.CharField(required=False, label=_("Until, in words (English)"))
    until_tr = forms.CharField(required=False, label=_("Until, in words (Turkish)"))
    physician_decides = forms.BooleanField(
        required=False,
        label=_("A physician decides"),
        help_text=_(
            "For a contraindication that a physician may lift (with the "
            "prescriber or oncologist): the lead goes to the physician's queue."
        ),
    )
    source = forms.CharField(widget=TEXTAREA, label=_("Source"))

    def __init__(
        self,
        *args: Any,
        treatments: Sequence[str] = (),
        date_items: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = cast(forms.ChoiceField, self.fields["treatments"])
        choices.choices = [(code, code) for code in treatments]
        after = cast(forms.ChoiceField, self.fields["defer_after"])
        after.choices = [("", gettext("(no date)")), *((i, i) for i in date_items)]


class BaseRuleFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        ids = [
            form.cleaned_data.get("rule_id")
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        duplicates = sorted({i for i in ids if ids.count(i) > 1 and i})
        if duplicates:
            raise forms.ValidationError(
                gettext("Rule ids used twice: %(ids)s") % {"ids": ", ".join(duplicates)}
            )


RuleFormSet = forms.formset_factory(
    RuleForm, formset=BaseRuleFormSet, extra=1, can_delete=True
)


def rule_initial(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule of the definition as the form's initial values."""
    defer = rule.get("defer") or {}
    until = rule.get("until") or {}
    return {
        "rule_id": rule["id"],
        "treatments": rule["treatments"],
        "outcome": rule["outcome"],
        "when": rule["when"],
        "reason": rule["reason"],
        "patient_en": rule["patient"]["en"],
        "patient_tr": rule["patient"]["tr"],
        "defer_after": defer.get("after", ""),
        "defer_days": defer.get("days"),
        "defer_months": defer.get("months"),
        "until_en": until.get("en", ""),
        "until_tr": until.get("tr", ""),
        "physician_decides": rule.get("physician_decides", False),
        "source": rule["source"],
    }


def rule_from_form(data: dict[str, Any]) -> dict[str, Any]:
    """A form's cleaned data as a rule of the definition; the engine checks the rest."""
    rule: dict[str, Any] = {
        "id": data["rule_id"],
        "treatments": list(data["treatments"]),
        "when": data["when"],
        "outcome": data["outcome"],
        "reason": data["reason"].strip(),
        "patient": {"en": data["patient_en"].strip(), "tr": data["patient_tr"].strip()},
        "source": data["source"].strip(),
    }
    if data["outcome"] == "deferred" and data.get("defer_after"):
        defer: dict[str, Any] = {"after": data["defer_after"]}
        for unit in ("days", "months"):
            if data.get(f"defer_{unit}"):
                defer[unit] = data[f"defer_{unit}"]
        rule["defer"] = defer
    if data.get("until_en") or data.get("until_tr"):
        rule["until"] = {"en": data["until_en"], "tr": data["until_tr"]}
    if data.get("physician_decides"):
        rule["physician_decides"] = True
    return rule
