"""config.urls with the bare endpoint in front (bench.settings only)."""

from django.urls import path

from bench.bare import BareView
from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as config_urls

urlpatterns = [path("bench/bare", BareView.as_view(), name="bench-bare"), *config_urls]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
