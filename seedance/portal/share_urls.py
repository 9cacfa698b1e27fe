"""Deleting and sharing a video: the owner's pages (``urlpatterns``, in the portal) and
the shared page (``shared_urlpatterns``, in ``seedance.urls``: no sign-in, no tenant)."""

from django.urls import path

from seedance.portal import share_views

urlpatterns = [
    path(
        "runs/<uuid:run_id>/video/delete/",
        share_views.VideoDeleteView.as_view(),
        name="video-delete",
    ),
    path("runs/<uuid:run_id>/share/", share_views.ShareLinksView.as_view(), name="share-links"),
    path(
        "runs/<uuid:run_id>/share/<int:link_id>/revoke/",
        share_views.ShareRevokeView.as_view(),
        name="share-revoke",
    ),
]

shared_urlpatterns = [
    path("shared/<str:token>/", share_views.shared_video_page, name="shared-video"),
    path("shared/<str:token>/video/", share_views.shared_video_file, name="shared-video-file"),
    path("shared/<str:token>/poster/", share_views.shared_video_poster, name="shared-video-poster"),
]
