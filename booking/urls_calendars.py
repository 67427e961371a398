"""The practitioners' calendar feeds: /calendars/<token>.ics, outside the language
prefix (calendar apps fetch one fixed address)."""

from django.urls import URLPattern, path

from booking import views_calendars

app_name = "calendars"
urlpatterns: list[URLPattern] = [
    path("<slug:token>.ics", views_calendars.calendar_feed, name="feed"),
]
