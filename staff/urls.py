from django.urls import URLPattern, path

from staff.views import (
    account,
    audit,
    booking,
    dashboard,
    lead,
    privacy,
    queue,
    review,
    tokens,
)

app_name = "staff"

urlpatterns: list[URLPattern] = [
    path("", queue.queue, name="queue"),
    path("bulk", queue.queue_bulk, name="queue-bulk"),
    path("sign-in/", account.StaffLoginView.as_view(), name="login"),
    path("sign-in/code/", account.verify, name="verify"),
    path("sign-in/authenticator/", account.otp_setup, name="otp-setup"),
    path("sign-out/", account.sign_out, name="logout"),
    path("account/api-tokens/", tokens.api_tokens, name="api-tokens"),
    path(
        "account/api-tokens/<uuid:code>/revoke",
        tokens.api_token_revoke_view,
        name="api-token-revoke",
    ),
    path("leads/<uuid:code>/", lead.lead_page, name="lead"),
    path("leads/<uuid:code>/call", lead.lead_call, name="lead-call"),
    path("leads/<uuid:code>/note", lead.lead_note, name="lead-note"),
    path("leads/<uuid:code>/status", lead.lead_status, name="lead-status"),
    path("leads/<uuid:code>/assign", lead.lead_assign_to, name="lead-assign"),
    path("leads/<uuid:code>/health", lead.lead_health, name="lead-health"),
    path("leads/<uuid:code>/merge", lead.lead_merge_with, name="lead-merge"),
    path("leads/<uuid:code>/book/", booking.lead_book, name="lead-book"),
    path(
        "leads/<uuid:code>/personal-data/",
        privacy.personal_data,
        name="lead-personal-data",
    ),
    path(
        "leads/<uuid:code>/personal-data/erase",
        privacy.personal_data_erase,
        name="lead-personal-data-erase",
    ),
    path(
        "leads/<uuid:code>/personal-data/requests/<int:request_id>/handled",
        privacy.privacy_request_handled,
        name="lead-privacy-request-handled",
    ),
    path("leads/<uuid:code>/link", lead.lead_link_send, name="lead-link"),
    path("leads/<uuid:code>/book/at", booking.lead_book_at, name="lead-book-at"),
    path(
        "leads/<uuid:code>/bookings/<uuid:booking>/attended",
        lead.lead_attended,
        name="lead-attended",
    ),
    path(
        "leads/<uuid:code>/messages/<int:message>/again",
        lead.lead_message_again,
        name="lead-message-again",
    ),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard.csv", dashboard.dashboard_csv, name="dashboard-csv"),
    path("audit.csv", audit.audit_csv, name="audit-csv"),
    path("review/", review.review_list, name="review"),
    path("review/<uuid:code>/", review.review_lead, name="review-lead"),
    path("review/<uuid:code>/decide", review.review_decide, name="review-decide"),
]
