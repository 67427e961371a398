"""The person's unsubscribe page, outside the language prefix: the link in a
message names the language in its token, and a one-click POST must not redirect."""

from django.urls import URLPattern, path

from followups import views

app_name = "followups"
urlpatterns: list[URLPattern] = [
    path("<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("<str:token>/your-data/", views.your_data, name="your-data"),
]
