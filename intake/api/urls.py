from django.urls import path

from intake.api import views

urlpatterns = [
    path(
        "questionnaires/<slug:slug>",
        views.QuestionnaireDetailApi.as_view(),
        name="questionnaire-detail",
    ),
    path("submissions", views.SubmissionCreateApi.as_view(), name="submission-create"),
    path(
        "submissions/<uuid:code>/fhir",
        views.SubmissionFhirApi.as_view(),
        name="submission-fhir",
    ),
    path(
        "submissions/<uuid:code>/screening",
        views.SubmissionScreeningApi.as_view(),
        name="submission-screening",
    ),
    path(
        "screening/evaluate",
        views.ScreeningEvaluateApi.as_view(),
        name="screening-evaluate",
    ),
    path(
        "screening/rule-set", views.RuleSetDetailApi.as_view(), name="rule-set-detail"
    ),
]
