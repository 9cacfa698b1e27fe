"""Posters as the copy task leaves them: a real frame of a real MP4, stored beside the copy."""

from functools import cache
from pathlib import Path
from tempfile import mkdtemp

from django.core.files.base import ContentFile

from seedance.models import OutputFile, Run
from seedance.posters import poster_frame
from seedance.sandbox.media import Renderer


@cache
def real_mp4() -> Path:
    """A one-second 160x90 MP4 from the bundled ffmpeg, rendered once per test process."""
    renderer = Renderer(Path(mkdtemp(prefix="seedance-posters-")), workers=1)
    try:
        return renderer.render(160, 90, 1, False).result(timeout=120)
    finally:
        renderer.close()


def attach_poster(run: Run) -> OutputFile:
    """Give the run's stored copy (tests.factories.store_copies) a real poster frame."""
    record = OutputFile.objects.get(run=run, index=0)
    record.poster.save(f"{run.pk}-0.jpg", ContentFile(poster_frame(real_mp4())), save=True)
    return record
