from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("seedance.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("seedance.urls")),
]
# seedance stands on its own: without billing installed, its URLs are simply absent.
if apps.is_installed("billing"):
    urlpatterns += [
        path("api/v1/", include("billing.api.urls")),
        path("", include("billing.urls")),
        path("", include("billing.portal.urls")),
    ]
urlpatterns += [path("", include("seedance.portal.urls"))]
# MEDIA_ROOT is never served directly: outputs go out only through signed links that check
# the tenant's retention and the run's moderation state (seedance.files).
