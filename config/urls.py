from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from booking.urls import urlpatterns as booking_api_urls
from clinics import views as clinic_views
from config import metrics as ops_metrics
from core import api as core_api
from core import views as core_views
from intake.api.urls import urlpatterns as intake_api_urls
from leads.api.urls import urlpatterns as leads_api_urls
from staff.access import admin_may_enter
from staff.views import account as account_views

admin.site.site_header = admin.site.site_title = settings.CLINIC_NAME
admin.site.index_title = _("Clinic administration")
# "/" matches nothing: LocaleMiddleware redirects it to the page in the language the
# admin is shown in (the same cookie or Accept-Language decides both).
admin.site.site_url = "/"
# One sign-in for the whole site: the staff one, with its lock-out and second factor.
admin.site.login = account_views.admin_login  # type: ignore[method-assign]
admin.site.has_permission = admin_may_enter  # type: ignore[method-assign]

handler404 = "core.error_responses.not_found"
handler500 = "core.outages.handler500"

api_v1 = [
    *intake_api_urls,
    *leads_api_urls,
    *booking_api_urls,
    path(
        "ops/worker-checks",
        core_api.WorkerCheckCreateApi.as_view(),
        name="worker-check-create",
    ),
    path(
        "ops/worker-checks/<uuid:code>",
        core_api.WorkerCheckDetailApi.as_view(),
        name="worker-check-detail",
    ),
]

urlpatterns = [
    path("favicon.ico", core_views.favicon),
    # Prometheus's default path; staff and METRICS_ALLOWED_ADDRESSES only.
    path("metrics", ops_metrics.metrics, name="metrics"),
    path("branding/<str:version>.css", clinic_views.branding_css, name="branding-css"),
    path("branding/logo/<str:version>", clinic_views.logo, name="branding-logo"),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script, so the
    # Content-Security-Policy holds on this page too.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path("staff/", include("staff.urls")),
    path("staff/status/", core_views.status, name="status"),
    path(
        "staff/status/worker-check",
        core_views.worker_check_start,
        name="worker-check-start",
    ),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("calendars/", include("booking.urls_calendars")),
    path("u/", include("followups.urls")),
]
if settings.EMAIL_WEBHOOK_SECRET:
    # Bounces and complaints from the clinic's mail provider, only its tracking
    # webhook (followups.email_event_receive; others would need their packages).
    from anymail.urls import urlpatterns as anymail_urls

    urlpatterns.append(
        path(
            "anymail/",
            include(
                [
                    url
                    for url in anymail_urls
                    if url.name == f"{settings.EMAIL_WEBHOOK_PROVIDER}_tracking_webhook"
                ]
            ),
        )
    )

# Patient-facing pages live under a language prefix: /en/..., /tr/...
urlpatterns += i18n_patterns(
    path("", core_views.home, name="home"),
    path("consultation/", include("intake.urls")),
    path("book/", include("booking.urls_patient")),
    prefix_default_language=True,
)
