from django.urls import include, path

from seedance.portal.placeholder import not_built_yet

app_name = "portal"

urlpatterns = [
    path("", not_built_yet, name="home"),
    path("runs/", not_built_yet, name="run-list"),
    path("runs/new/", not_built_yet, name="run-create"),
    path("tenants/switch/", not_built_yet, name="switch-tenant"),
    path("manage/", include("seedance.portal.manage_urls")),
]
