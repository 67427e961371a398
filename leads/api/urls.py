from django.urls import URLPattern, path

from leads.api.actions import (
    LeadAssignApi,
    LeadCallCreateApi,
    LeadMergeApi,
    LeadNoteCreateApi,
    LeadTransitionApi,
)
from leads.api.decisions import LeadDecisionCreateApi, LeadScreeningReevaluateApi
from leads.api.export import LeadExportApi
from leads.api.health import LeadHealthApi
from leads.api.lead import LeadDetailApi, LeadTimelineApi
from leads.api.queue import LeadListApi

urlpatterns: list[URLPattern] = [
    path("leads", LeadListApi.as_view(), name="lead-list"),
    path("leads/export.csv", LeadExportApi.as_view(), name="lead-export"),
    path("leads/<uuid:code>", LeadDetailApi.as_view(), name="lead-detail"),
    path("leads/<uuid:code>/timeline", LeadTimelineApi.as_view(), name="lead-timeline"),
    path("leads/<uuid:code>/health", LeadHealthApi.as_view(), name="lead-health"),
    path(
        "leads/<uuid:code>/transition",
        LeadTransitionApi.as_view(),
        name="lead-transition",
    ),
    path("leads/<uuid:code>/assign", LeadAssignApi.as_view(), name="lead-assign"),
    path("leads/<uuid:code>/notes", LeadNoteCreateApi.as_view(), name="lead-notes"),
    path("leads/<uuid:code>/calls", LeadCallCreateApi.as_view(), name="lead-calls"),
    path("leads/<uuid:code>/merge", LeadMergeApi.as_view(), name="lead-merge"),
    path(
        "leads/<uuid:code>/decisions",
        LeadDecisionCreateApi.as_view(),
        name="lead-decisions",
    ),
    path(
        "leads/<uuid:code>/screening/reevaluate",
        LeadScreeningReevaluateApi.as_view(),
        name="lead-screening-reevaluate",
    ),
]
