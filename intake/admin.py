"""Configuration screens: questionnaire and rule-set versions, submissions (read-only).

Editing a published version is impossible by design: "Copy into a new draft", edit
the draft's definition, check it (for rules: a dry run), then publish.
"""

from typing import Any, cast
from uuid import UUID

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from clinics.admin import ClinicAdminOnlyAdmin, LocationScopedAdmin
from core.errors import BusinessError
from intake.models import (
    HealthDataAccess,
    ImmutableOncePublished,
    QuestionnaireVersion,
    ResumeEmail,
    ScreeningOverride,
    ScreeningRuleSetVersion,
    Submission,
    VersionStatus,
)
from intake.rule_forms import RuleFormSet, rule_from_form, rule_initial
from intake.selectors.questionnaires import (
    questionnaire_definition_get,
    questionnaire_version_get_published,
)
from intake.services.health import (
    HealthReadRefused,
    SubmissionHealth,
    SubmissionNotFound,
    submission_health_read,
    submission_photo_read,
)
from intake.services.questionnaires import (
    questionnaire_version_draft_create,
    questionnaire_version_publish,
)
from intake.services.screening import (
    rule_set_dry_run,
    rule_set_version_draft_create,
    rule_set_version_publish,
    rule_set_version_rules_replace,
)


class VersionAdmin(admin.ModelAdmin[Any]):
    """Both kinds of version: read-only once published; copy and publish actions."""

    list_display = ["__str__", "number", "status", "created_at", "published_at"]
    list_filter = ["status"]
    ordering = ["-created_at"]
    actions = ["copy_into_draft", "publish"]
    draft_create: Any = None
    version_publish: Any = None

    def get_readonly_fields(
        self, request: HttpRequest, obj: ImmutableOncePublished | None = None
    ) -> list[str]:
        fixed = ["number", "status", "created_at", "published_at"]
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return [*fixed, "definition"]
        return fixed

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # New versions come from "Copy into a new draft" or the loader.

    def has_delete_permission(
        self, request: HttpRequest, obj: ImmutableOncePublished | None = None
    ) -> bool:
        return (
            super().has_delete_permission(request, obj)
            and obj is not None
            and obj.status == VersionStatus.DRAFT
        )

    @admin.action(description=_("Copy into a new draft"), permissions=["change"])
    def copy_into_draft(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for version in queryset:
            draft = type(self).draft_create(from_version_id=version.pk)
            self.message_user(
                request,
                _("Created %(draft)s: edit it, then publish it.") % {"draft": draft},
            )

    @admin.action(
        description=_("Publish (the current version retires)"), permissions=["change"]
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for version in queryset:
            try:
                published = type(self).version_publish(version_id=version.pk)
            except BusinessError as error:
                self.message_user(request, error.message, level=messages.ERROR)
            else:
                self.message_user(
                    request, _("Published %(version)s.") % {"version": published}
                )


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(VersionAdmin):
    draft_create = staticmethod(questionnaire_version_draft_create)
    version_publish = staticmethod(questionnaire_version_publish)
    list_select_related = ["questionnaire"]


@admin.register(ScreeningRuleSetVersion)
class ScreeningRuleSetVersionAdmin(VersionAdmin):
    draft_create = staticmethod(rule_set_version_draft_create)
    version_publish = staticmethod(rule_set_version_publish)
    actions = [*VersionAdmin.actions, "dry_run"]
    list_select_related = ["rule_set"]

    list_display = [*VersionAdmin.list_display, "rules_link"]

    @admin.display(description=_("Rules"))
    def rules_link(self, version: ScreeningRuleSetVersion) -> str:
        url = reverse("admin:intake_rules_edit", args=[version.pk])
        count = len(version.definition.get("rules", []))
        label = (
            _("edit %(count)s rules")
            if version.status == VersionStatus.DRAFT
            else _("view %(count)s rules")
        )
        return format_html('<a href="{}">{}</a>', url, label % {"count": count})

    def get_urls(self) -> list[URLPattern]:
        rules = path(
            "<int:version_id>/rules/",
            self.admin_site.admin_view(self.rules_view),
            name="intake_rules_edit",
        )
        return [rules, *super().get_urls()]

    def rules_view(self, request: HttpRequest, version_id: int) -> HttpResponse:
        """A draft's rules, one form each; a published version's are read-only."""
        version = ScreeningRuleSetVersion.objects.filter(pk=version_id).first()
        if version is None:
            raise Http404
        editable = version.status == VersionStatus.DRAFT and self.has_change_permission(
            request, version
        )
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        definition = questionnaire_definition_get(questionnaire_version_get_published())
        options = {
            "treatments": version.definition.get("treatments", []),
            "date_items": [i.link_id for i in definition.items() if i.type == "date"],
        }
        formset = RuleFormSet(
            request.POST if request.method == "POST" and editable else None,
            initial=[
                rule_initial(rule) for rule in version.definition.get("rules", [])
            ],
            form_kwargs=options,
        )
        problems: list[str] = []
        if request.method == "POST" and editable and formset.is_valid():
            rules = [
                rule_from_form(form.cleaned_data)
                for form in formset.forms
                if form.has_changed() or form.initial
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
            ]
            try:
                rule_set_version_rules_replace(version_id=version.pk, rules=rules)
            except BusinessError as error:
                problems = error.fields.get("definition", [error.message])
            else:
                self.message_user(
                    request,
                    ngettext(
                        "Saved %(count)s rule in %(version)s. Run a dry run, then "
                        "publish it.",
                        "Saved %(count)s rules in %(version)s. Run a dry run, then "
                        "publish it.",
                        len(rules),
                    )
                    % {"count": len(rules), "version": version},
                )
                return redirect("admin:intake_screeningrulesetversion_changelist")
        return TemplateResponse(
            request,
            "admin/intake/rules.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Rules of %(version)s") % {"version": version},
                "version": version,
                "formset": formset,
                "editable": editable,
                "problems": problems,
            },
        )

    @admin.action(
        description=_("Dry run: which stored outcomes would change"),
        permissions=["change"],
    )
    def dry_run(
        self, request: HttpRequest, queryset: QuerySet[ScreeningRuleSetVersion]
    ) -> HttpResponse | None:
        version = queryset.first()
        if version is None:
            return None
        try:
            checked, changes = rule_set_dry_run(
                version_id=version.pk, user=cast(User, request.user)
            )
        except BusinessError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return None
        return TemplateResponse(
            request,
            "admin/intake/dry_run.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Dry run of %(version)s") % {"version": version},
                "version": version,
                "checked": checked,
                "changes": changes,
            },
        )


class ScreeningOverrideInline(admin.TabularInline[ScreeningOverride, Submission]):
    model = ScreeningOverride
    extra = 0
    can_delete = False
    readonly_fields = ["treatment", "decision", "note", "decided_by", "decided_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Submission)
class SubmissionAdmin(LocationScopedAdmin[Submission]):
    """Read-only. Opening one shows physicians and clinic admins its health answers
    and screening, read (and audited) through intake.services.health; others see
    the contact details only."""

    list_display = ["code", "full_name", "location", "language", "submitted_at"]
    list_filter = ["location", "language", "questionnaire_version"]
    search_fields = ["full_name", "email", "phone"]
    list_select_related = ["location", "questionnaire_version__questionnaire"]
    inlines = [ScreeningOverrideInline]
    exclude = ["health_answers_ciphertext"]
    # The health answers and screening, below the fields (from change_view's read).
    change_form_template = "admin/intake/submission/change_form.html"
    readonly_fields = [
        "code",
        "questionnaire_version",
        "language",
        "full_name",
        "birth_date",
        "email",
        "phone",
        "preferred_language",
        "location",
        "contact_channel",
        "contact_times",
        "consent_health_at",
        "privacy_notice_version",
        "consent_marketing",
        "consent_marketing_at",
        "source",
        "submitted_at",
        "idempotency_key",
        "photos",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        submission = self.get_object(request, object_id)
        health: SubmissionHealth | None = None
        refused = ""
        if submission is not None and self.has_view_permission(request, submission):
            try:
                health = submission_health_read(user=request.user, code=submission.code)
            except HealthReadRefused as error:
                refused = error.message
        context = {**(extra_context or {}), "health": health, "health_refused": refused}
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list[URLPattern]:
        photo = path(
            "<int:submission_id>/photo/<uuid:code>/",
            self.admin_site.admin_view(self.photo_view),
            name="intake_submission_photo",
        )
        return [photo, *super().get_urls()]

    def photo_view(
        self, request: HttpRequest, submission_id: int, code: UUID
    ) -> HttpResponse:
        """One photo, for a physician or clinic admin of the submission's location
        whose login may view submissions; read and audited through
        intake.services.health."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            photo = submission_photo_read(
                user=request.user, submission_id=submission_id, photo_code=code
            )
        except SubmissionNotFound as error:
            raise Http404 from error
        except HealthReadRefused as error:
            raise PermissionDenied from error
        response = HttpResponse(photo.data, content_type=photo.content_type)
        response["Cache-Control"] = "private, no-store"
        response["Content-Disposition"] = "inline"
        return response

    @admin.display(description=_("Photos"))
    def photos(self, submission: Submission) -> str:
        links = [
            (
                reverse(
                    "admin:intake_submission_photo", args=[submission.pk, photo.code]
                ),
                gettext("Photo, %(width)s by %(height)s px")
                % {"width": photo.width, "height": photo.height},
            )
            for photo in submission.photos.all()
        ]
        if not links:
            return str(_("none"))
        return format_html_join(
            " ", '<a href="{0}"><img src="{0}" alt="{1}" width="160"></a>', links
        )


@admin.register(HealthDataAccess)
class HealthDataAccessAdmin(LocationScopedAdmin[HealthDataAccess]):
    location_field = "submission__location"
    list_display = ["accessed_at", "user", "what", "submission"]
    list_filter = ["what"]
    list_select_related = ["user", "submission"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ResumeEmail)
class ResumeEmailAdmin(ClinicAdminOnlyAdmin[ResumeEmail]):
    """Whether a visitor's "finish later" link went out: read-only, and for clinic
    admins only, since a draft belongs to no location yet."""

    list_display = [
        "draft", "to", "status", "attempts", "last_error", "created_at", "sent_at",
    ]  # fmt: skip
    list_filter = ["status"]
    list_select_related = ["draft"]
    readonly_fields = [field.name for field in ResumeEmail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # Written when a visitor asks for the link.
