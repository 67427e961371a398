"""The patient's booking page, under the language prefix: /en/book/<token>/..."""

from django.urls import URLPattern, path

from booking import views

app_name = "booking"
urlpatterns: list[URLPattern] = [
    path("<str:token>/", views.booking_page, name="page"),
    path("<str:token>/book/", views.booking_book, name="book"),
    path("<str:token>/<uuid:code>/move/", views.booking_move, name="move"),
    path("<str:token>/<uuid:code>/cancel/", views.booking_cancel_page, name="cancel"),
    path("<str:token>/<uuid:code>/course/", views.booking_course, name="course"),
]
