from django.urls import URLPattern, path

from leads.api import views

urlpatterns: list[URLPattern] = [
    path("leads", views.LeadListApi.as_view(), name="lead-list"),
    path("leads/export.csv", views.LeadExportApi.as_view(), name="lead-export"),
    path("leads/<uuid:code>", views.LeadDetailApi.as_view(), name="lead-detail"),
    path(
        "leads/<uuid:code>/timeline",
        views.LeadTimelineApi.as_view(),
        name="lead-timeline",
    ),
    path("leads/<uuid:code>/health", views.LeadHealthApi.as_view(), name="lead-health"),
    path(
        "leads/<uuid:code>/transition",
        views.LeadTransitionApi.as_view(),
        name="lead-transition",
    ),
    path("leads/<uuid:code>/assign", views.LeadAssignApi.as_view(), name="lead-assign"),
    path(
        "leads/<uuid:code>/notes", views.LeadNoteCreateApi.as_view(), name="lead-notes"
    ),
    path(
        "leads/<uuid:code>/calls", views.LeadCallCreateApi.as_view(), name="lead-calls"
    ),
    path("leads/<uuid:code>/merge", views.LeadMergeApi.as_view(), name="lead-merge"),
    path(
        "leads/<uuid:code>/decisions",
        views.LeadDecisionCreateApi.as_view(),
        name="lead-decisions",
    ),
    path(
        "leads/<uuid:code>/screening/reevaluate",
        views.LeadScreeningReevaluateApi.as_view(),
        name="lead-screening-reevaluate",
    ),
]
