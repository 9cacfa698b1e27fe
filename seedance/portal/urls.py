from django.urls import include, path

from seedance.portal import code_views, tenant_views, views

app_name = "portal"

urlpatterns = [
    path("", tenant_views.HomeView.as_view(), name="home"),
    path("runs/", views.RunListView.as_view(), name="run-list"),
    path("runs/rows/", views.RunRowsView.as_view(), name="run-rows"),
    path("runs/new/", views.RunCreateView.as_view(), name="run-create"),
    path("runs/new/code/", code_views.RunCodeView.as_view(), name="run-code"),
    path("runs/<uuid:run_id>/", views.RunDetailView.as_view(), name="run-detail"),
    path("runs/<uuid:run_id>/status/", views.RunStatusView.as_view(), name="run-status"),
    path("runs/<uuid:run_id>/cancel/", views.RunCancelView.as_view(), name="run-cancel"),
    path("tenants/new/", tenant_views.TenantCreateView.as_view(), name="tenant-create"),
    path("tenants/switch/", tenant_views.SwitchTenantView.as_view(), name="switch-tenant"),
    path(
        "invitations/<int:invitation_id>/accept/",
        tenant_views.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        tenant_views.InvitationDeclineView.as_view(),
        name="invitation-decline",
    ),
    path("invitations/<str:token>/", tenant_views.InvitationView.as_view(), name="invitation"),
    path("manage/", include("seedance.portal.manage_urls")),
    path("", include("seedance.portal.share_urls")),
]
