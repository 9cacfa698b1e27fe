"""Serving our copy of an output through a signed, expiring link.

The token is the authorization (the API and the portal hand out links only for what the
reader may see); the run's moderation state and the file's retention are checked again
on every request, so a link stops working the moment a video is held or rejected.
Single byte ranges are honoured, so browsers can seek in the <video> player.
"""

import re

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from seedance.models import OutputFile
from seedance.outputs import file_for_token

POSTER_TYPE = "image/jpeg"
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@require_safe
def output_file(request: HttpRequest, token: str) -> HttpResponseBase:
    record = file_for_token(token)
    if record is None:
        raise Http404("No such file, or no longer available.")
    return file_response(request, record)


@require_safe
def output_poster(request: HttpRequest, token: str) -> HttpResponseBase:
    """The video's poster frame, granted by the video's own token and checks."""
    record = file_for_token(token)
    if record is None or not record.poster:
        raise Http404("No such file, or no longer available.")
    return file_response(request, record, poster=True)


def file_response(
    request: HttpRequest, record: OutputFile, *, poster: bool = False
) -> HttpResponseBase:
    """Our stored copy (or its poster), whole or one byte range; the caller has decided it
    may be served."""
    stored = record.poster if poster else record.file
    content_type = POSTER_TYPE if poster else record.content_type
    try:
        size = stored.size
    except FileNotFoundError:
        raise Http404("No such file, or no longer available.") from None
    handle = stored.open("rb")
    requested = RANGE.match(request.headers.get("Range", "").strip())
    start, end = _byte_range(requested, size) if requested else (0, size - 1)
    if start is None or end is None:
        handle.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    response: HttpResponseBase
    if requested:
        handle.seek(start)
        body = handle.read(end - start + 1)
        handle.close()
        response = HttpResponse(body, status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(handle, content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["Content-Length"] = str(end - start + 1)
    name = f"{record.run_id}-{record.index}.{'jpg' if poster else 'mp4'}"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    # Served from our own origin: never sniffed into something a browser would run.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; media-src 'self'"
    response["Cache-Control"] = "private, max-age=300"
    return response


def _byte_range(match: re.Match[str], size: int) -> tuple[int | None, int | None]:
    first, last = match.groups()
    if not first and not last:
        return None, None
    if not first:
        start, end = max(size - int(last), 0), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return None, None
    return start, end
