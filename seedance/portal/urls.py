from django.urls import include, path

from seedance.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("runs/", views.RunListView.as_view(), name="run-list"),
    path("runs/rows/", views.RunRowsView.as_view(), name="run-rows"),
    path("runs/new/", views.RunCreateView.as_view(), name="run-create"),
    path("runs/<uuid:run_id>/", views.RunDetailView.as_view(), name="run-detail"),
    path("runs/<uuid:run_id>/status/", views.RunStatusView.as_view(), name="run-status"),
    path("runs/<uuid:run_id>/cancel/", views.RunCancelView.as_view(), name="run-cancel"),
    path("tenants/switch/", views.SwitchTenantView.as_view(), name="switch-tenant"),
    path("manage/", include("seedance.portal.manage_urls")),
]
