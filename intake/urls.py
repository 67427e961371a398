from django.urls import path

from intake import views

app_name = "intake"
urlpatterns = [
    path("", views.intake_start, name="start"),
    path("step/<int:number>/", views.intake_step, name="step"),
    path("under-18/", views.intake_guardian, name="guardian"),
    path("resume/<str:token>/", views.intake_resume, name="resume"),
    path("done/<uuid:code>/", views.intake_done, name="done"),
]
