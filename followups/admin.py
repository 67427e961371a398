"""The follow-ups in the admin: sequences and their steps, the templates with a
preview from a sample person, the leads on their way through a sequence and the
messages sent or waiting, per location, and the addresses that asked to stop."""

import html
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from clinics.admin import ClinicAdminOnlyAdmin, LocationScopedAdmin
from clinics.selectors import clinic_branding_get
from core.outbox import outbox_retry_now
from followups.models import (
    Enrollment,
    FollowUpMessage,
    MessageTemplate,
    Sequence,
    Step,
    Suppression,
)
from followups.rendering import Safe, TemplateError, template_check, template_render
from followups.selectors import VALUES
from followups.services import enrollment_stop
from leads.selectors import lead_email_key

SAMPLE = {
    "name": "Ayşe Yılmaz",
    "first_name": "Ayşe",
    "location_name": "Nişantaşı",
    "clinic_phone": "+90 212 000 00 00",
    "next_steps": "- Vitamin K mesotherapy: you can choose a time now.",
    "booking_link": "https://clinic.example/en/book/sample/",
    "booking_times": "Mon 7 Dec, 09:00; Mon 7 Dec, 09:15",
    "unsubscribe_link": "https://clinic.example/u/sample/",
}


class MessageTemplateForm(forms.ModelForm[MessageTemplate]):
    class Meta:
        model = MessageTemplate
        fields = ["key", "language", "subject", "text_body", "html_body"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field in ("subject", "text_body", "html_body"):
            try:
                template_check(data.get(field) or "", names=VALUES)
            except TemplateError as error:
                self.add_error(field, str(error))
        return data


def _sample() -> dict[str, str]:
    """The sample person, at this clinic as its patients see it."""
    return {**SAMPLE, "clinic_name": clinic_branding_get().name}


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ClinicAdminOnlyAdmin[MessageTemplate]):
    form = MessageTemplateForm
    list_display = ["key", "language", "subject", "updated_at"]
    list_filter = ["language"]
    readonly_fields = ["values", "preview"]
    fields = [
        "key",
        "language",
        "subject",
        "text_body",
        "html_body",
        "values",
        "preview",
    ]

    @admin.display(description=_("Values to use"))
    def values(self, obj: MessageTemplate | None) -> SafeString:
        rows = format_html_join(
            "", "<li><code>{{{{ {} }}}}</code>: {}</li>", VALUES.items()
        )
        return format_html("<ul>{}</ul>", rows)

    @admin.display(description=_("Preview, from a sample person"))
    def preview(self, obj: MessageTemplate | None) -> SafeString | str:
        if obj is None or not obj.pk:
            return str(_("Save to see the preview."))
        try:
            return format_html(
                "<p><strong>{}</strong></p><pre>{}</pre><hr>"
                '<iframe sandbox="" title="HTML" src="{}" width="640" '
                'height="480"></iframe>',
                template_render(obj.subject, _sample()),
                template_render(obj.text_body, _sample()),
                reverse("admin:followups_messagetemplate_preview", args=[obj.pk]),
            )
        except TemplateError as error:
            return str(error)

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "<int:template_id>/preview/",
            self.admin_site.admin_view(self.html_preview_view),
            name="followups_messagetemplate_preview",
        )
        return [preview, *super().get_urls()]

    @method_decorator(xframe_options_sameorigin)
    def html_preview_view(self, request: HttpRequest, template_id: int) -> HttpResponse:
        """The HTML part from the sample person, framed by the template's page: its
        own policy lets the email's inline styles show, and nothing run or load."""
        template = MessageTemplate.objects.filter(pk=template_id).first()
        if template is None or not self.has_view_permission(request, template):
            raise Http404
        markup = dict(
            _sample(),
            next_steps=Safe(f"<ul><li>{SAMPLE['next_steps'][2:]}</li></ul>"),
        )
        try:
            body = template_render(template.html_body, markup, html_part=True)
        except TemplateError as error:
            body = f"<p>{html.escape(str(error))}</p>"
        response = HttpResponse(body)
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
        )
        return response


class StepForm(forms.ModelForm[Step]):
    class Meta:
        model = Step
        fields = ["position", "template_key", "delay_minutes"]

    def clean_template_key(self) -> str:
        key: str = self.cleaned_data["template_key"]
        have = set(
            MessageTemplate.objects.filter(key=key).values_list("language", flat=True)
        )
        missing = [code for code, _name in settings.LANGUAGES if code not in have]
        if missing:
            raise forms.ValidationError(
                _("Write the template “%(key)s” in every language first (missing: "
                  "%(missing)s).") % {"key": key, "missing": ", ".join(missing)}
            )  # fmt: skip
        return key


class StepInline(admin.TabularInline[Step, Sequence]):
    model = Step
    form = StepForm
    extra = 0


@admin.register(Sequence)
class SequenceAdmin(ClinicAdminOnlyAdmin[Sequence]):
    list_display = ["name", "trigger", "category", "is_active"]
    list_filter = ["trigger", "category", "is_active"]
    inlines = [StepInline]


@admin.register(FollowUpMessage)
class FollowUpMessageAdmin(LocationScopedAdmin[FollowUpMessage]):
    """The messages sent, waiting or failed; a failed one can be sent again."""

    location_field = "lead__location"
    list_display = [
        "step", "lead", "status", "attempts", "next_attempt_at", "sent_at",
        "bounced_at", "last_error",
    ]  # fmt: skip
    list_filter = ["status", "category"]
    list_select_related = ["step__sequence", "lead"]
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send again"))
    def send_again(
        self, request: HttpRequest, queryset: QuerySet[FollowUpMessage]
    ) -> None:
        again = sum(
            outbox_retry_now(FollowUpMessage, pk=message.pk) for message in queryset
        )
        self.message_user(request, _("%(count)s sent again.") % {"count": again})


@admin.register(Enrollment)
class EnrollmentAdmin(LocationScopedAdmin[Enrollment]):
    """Who is on their way through which sequence, the next step's time, and why a
    finished one stopped; staff can stop one for a person who asked on the
    phone."""

    location_field = "lead__location"
    list_display = [
        "sequence", "lead", "anchor_at", "next_due_at", "finished_at",
        "stopped_because",
    ]  # fmt: skip
    list_filter = ["sequence", ("finished_at", admin.EmptyFieldListFilter)]
    list_select_related = ["sequence", "lead"]
    actions = ["stop"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Stop these sequences"))
    def stop(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        stopped = enrollment_stop(
            enrollments=queryset, because="stopped by staff", now=timezone.now()
        )
        self.message_user(request, _("%(count)s stopped.") % {"count": stopped})


class SuppressionForm(forms.ModelForm[Suppression]):
    """An address typed as the person gave it; kept as its email key, which
    stops differently written copies of it too."""

    email = forms.EmailField(label=_("email address"))

    class Meta:
        model = Suppression
        fields = ["scope", "reason"]

    def save(self, commit: bool = True) -> Suppression:
        self.instance.email_key = lead_email_key(self.cleaned_data["email"])
        return super().save(commit)


@admin.register(Suppression)
class SuppressionAdmin(ClinicAdminOnlyAdmin[Suppression]):
    """Addresses follow-ups skip: unsubscribed, bouncing or complaining. Deleting
    one lets follow-ups go to it again."""

    form = SuppressionForm
    list_display = ["email_key", "scope", "reason", "updated_at"]
    list_filter = ["scope", "reason"]
    search_fields = ["email_key"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
