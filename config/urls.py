from allauth.account.decorators import secure_admin_login
from django.apps import apps
from django.contrib import admin
from django.urls import include, path, re_path

from seedance import health
from seedance.api import fallbacks
from seedance.api.documents import SchemaView, SwaggerUIView
from seedance.metrics.views import metrics

# The admin signs in through allauth's login: its rate limits and its TOTP step apply.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    # Operations (README, "Operations"): probes and the Prometheus scrape, outside the API.
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("seedance.api.urls")),
    # Runflow's API, for apps switching from Runflow (README, "Switch from Runflow").
    path("v1/", include("seedance.compat.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline one.
    path(
        "api/docs/",
        SwaggerUIView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="swagger-ui",
    ),
    path("accounts/", include("seedance.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("seedance.urls")),
]
# seedance stands on its own: without billing installed, its URLs are simply absent.
if apps.is_installed("billing"):
    urlpatterns += [
        path("api/v1/", include("billing.api.urls")),
        path("", include("billing.urls")),
        path("", include("billing.portal.urls")),
    ]
urlpatterns += [
    # Last under /api/: an unknown path is a JSON 404, never APPEND_SLASH's redirect.
    re_path(r"^api(?:/.*)?$", fallbacks.api_not_found),
    path("", include("seedance.portal.urls")),
]
handler400 = fallbacks.bad_request
handler403 = fallbacks.permission_denied
handler404 = fallbacks.page_not_found
handler500 = fallbacks.server_error
# MEDIA_ROOT is never served directly: outputs go out only through signed links that check
# the tenant's retention and the run's moderation state (seedance.files).
