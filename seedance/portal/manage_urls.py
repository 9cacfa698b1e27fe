"""Tenant admin pages, included inside the ``portal`` namespace under ``manage/``.

The caps page is billing's (``billing_portal:caps``), linked by name from the hub.
"""

from django.urls import include, path

from seedance.portal import manage_views as views

urlpatterns = [
    path("", views.ManageHomeView.as_view(), name="manage"),
    path("keys/", views.KeysView.as_view(), name="keys"),
    path("keys/<int:key_id>/revoke/", views.KeyRevokeView.as_view(), name="key-revoke"),
    path("members/", views.MembersView.as_view(), name="members"),
    path("members/<int:membership_id>/role/", views.MemberRoleView.as_view(), name="member-role"),
    path(
        "members/<int:membership_id>/remove/",
        views.MemberRemoveView.as_view(),
        name="member-remove",
    ),
    path(
        "invitations/<int:invitation_id>/revoke/",
        views.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
    path("settings/", views.TenantSettingsView.as_view(), name="tenant-settings"),
    path("audit/", views.AuditLogView.as_view(), name="audit-log"),
    path("webhooks/", include("seedance.portal.webhook_urls")),
]
