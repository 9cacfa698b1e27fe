"""A video's owner deletes it or shares it; anyone with a share link watches it.

The owner's pages go through ``PortalMixin`` and find the run inside
``runs_visible_to(membership)`` (a member's own runs, a tenant admin's whole tenant), so
another tenant's run, or another member's, is a 404. The shared page needs no sign-in and
shows the video and its poster only.
"""

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from seedance.audit import Actor
from seedance.files import file_response
from seedance.models import Membership, Run, ShareLink
from seedance.portal.access import PortalMixin
from seedance.portal.selectors import runs_visible_to
from seedance.services.shares import (
    SHARE_DAYS,
    IssuedShareLink,
    NothingToShare,
    share_link_active,
    share_link_create,
    share_link_revoke,
    share_links_of,
    shareable_file,
    shared_file,
)
from seedance.services.videos import video_delete

SHARE_TEMPLATE = "seedance/portal/share/links.html"


class ShareLinkForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Link works for",
        coerce=int,
        choices=[(days, f"{days} day{'s' if days != 1 else ''}") for days in SHARE_DAYS],
        initial=7,
    )


class VideoDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, delete this video for good", error_messages={"required": "Tick to confirm."}
    )


def _actor(membership: Membership, request: HttpRequest) -> Actor:
    if membership.role == Membership.Role.ADMIN:
        return Actor.tenant_admin(request.user)
    return Actor.member(request.user)


class _OwnedRunMixin(PortalMixin):
    portal_section = "runs"

    def owned_run(self, run_id: UUID) -> Run:
        runs = runs_visible_to(self.membership).select_related("tenant")
        return get_object_or_404(runs, pk=run_id)


class VideoDeleteView(_OwnedRunMixin, TemplateView):
    template_name = "seedance/portal/share/delete.html"

    def get(self, request: HttpRequest, run_id: UUID) -> HttpResponse:
        run = self.owned_run(run_id)
        return self._page(run, VideoDeleteForm())

    def post(self, request: HttpRequest, run_id: UUID) -> HttpResponse:
        run = self.owned_run(run_id)
        form = VideoDeleteForm(request.POST)
        if not form.is_valid():
            return self._page(run, form, status=400)
        if video_delete(run=run, actor=_actor(self.membership, request)):
            messages.success(request, "Video deleted. The run and its bill are kept.")
        else:
            messages.info(request, "This run has no video to delete.")
        return redirect("portal:run-detail", run_id=run.pk)

    def _page(self, run: Run, form: VideoDeleteForm, status: int = 200) -> HttpResponse:
        context = self.get_context_data(run=run, form=form)
        return self.render_to_response(context, status=status)


class ShareLinksView(_OwnedRunMixin, TemplateView):
    template_name = SHARE_TEMPLATE

    def get(self, request: HttpRequest, run_id: UUID) -> HttpResponse:
        return self._page(self.owned_run(run_id), ShareLinkForm())

    def post(self, request: HttpRequest, run_id: UUID) -> HttpResponse:
        run = self.owned_run(run_id)
        form = ShareLinkForm(request.POST)
        if not form.is_valid():
            return self._page(run, form, status=400)
        try:
            issued = share_link_create(
                run=run, days=form.cleaned_data["days"], actor=_actor(self.membership, request)
            )
        except NothingToShare as refused:
            form.add_error(None, str(refused))
            return self._page(run, form, status=400)
        # Shown once, in this answer: the token is stored only as a digest.
        return self._page(run, ShareLinkForm(), new_link=issued, status=201)

    def _page(
        self,
        run: Run,
        form: ShareLinkForm,
        *,
        new_link: IssuedShareLink | None = None,
        status: int = 200,
    ) -> HttpResponse:
        now = timezone.now()
        record = shareable_file(run)
        links = [(link, share_link_active(link, now)) for link in share_links_of(run)]
        new_url = None
        if new_link is not None:
            path = reverse("seedance:shared-video", kwargs={"token": new_link.token})
            new_url = self.request.build_absolute_uri(path)
        context = self.get_context_data(
            run=run,
            form=form,
            shareable=record is not None,
            retention_ends=record.expires_at if record else None,
            links=links,
            new_url=new_url,
        )
        return self.render_to_response(context, status=status)


class ShareRevokeView(_OwnedRunMixin, View):
    def post(self, request: HttpRequest, run_id: UUID, link_id: int) -> HttpResponse:
        run = self.owned_run(run_id)
        try:
            share_link_revoke(run=run, link_id=link_id, actor=_actor(self.membership, request))
        except ShareLink.DoesNotExist:
            raise Http404("No such share link.") from None
        messages.success(request, "Share link revoked: it stops working at once.")
        return redirect("portal:share-links", run_id=run.pk)


SHARED_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, no-store",
}


@require_safe
def shared_video_page(request: HttpRequest, token: str) -> HttpResponse:
    """The video and its poster, nothing else: no prompt, no tenant, no run id."""
    record = shared_file(token)
    if record is None:
        raise Http404("This link does not work (any more).")
    context: dict[str, Any] = {
        "video_url": reverse("seedance:shared-video-file", kwargs={"token": token}),
        "poster_url": reverse("seedance:shared-video-poster", kwargs={"token": token})
        if record.poster
        else None,
        "width": record.width,
        "height": record.height,
    }
    response = TemplateResponse(request, "seedance/portal/share/shared.html", context)
    for name, value in SHARED_HEADERS.items():
        response[name] = value
    return response


@require_safe
def shared_video_file(request: HttpRequest, token: str) -> HttpResponseBase:
    record = shared_file(token)
    if record is None:
        raise Http404("This link does not work (any more).")
    return file_response(request, record)


@require_safe
def shared_video_poster(request: HttpRequest, token: str) -> HttpResponseBase:
    record = shared_file(token)
    if record is None or not record.poster:
        raise Http404("This link does not work (any more).")
    return file_response(request, record, poster=True)
