"""Staff-only views behind the Django admin: the reviewer's player and the decision form.

The public signed link refuses a held run on purpose; reviewers need to watch exactly
that video, so they get it here, by file id, behind ``staff_member_required``. A file
deleted from storage (rejected or past retention) is never served, not even to staff.
"""

from uuid import UUID

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from seedance.files import file_response
from seedance.models import OutputFile

REASON_MAX_CHARS = 2000


class ModerationDecisionForm(forms.Form):
    """The confirmation page's one field: every decision is recorded with its reason."""

    reason = forms.CharField(
        max_length=REASON_MAX_CHARS,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Recorded in the run's audit trail.",
    )


@staff_member_required
@require_safe
def staff_output_file(request: HttpRequest, file_id: UUID) -> HttpResponseBase:
    """A stored output, whatever its run's moderation state, for platform staff who may
    view runs (being staff is not enough: permissions decide what an account sees)."""
    if not request.user.has_perm("seedance.view_run"):
        raise PermissionDenied("You may not view runs.")
    record = (
        OutputFile.objects.filter(pk=file_id, copied_at__isnull=False, deleted_at__isnull=True)
        .exclude(file="")
        .first()
    )
    if record is None:
        raise Http404("No stored copy of this output.")
    response = file_response(request, record)
    response["Cache-Control"] = "private, no-store"
    return response
