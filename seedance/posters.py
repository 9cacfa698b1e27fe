"""A still frame of every video we keep, from our copy and the ffmpeg imageio-ffmpeg bundles.

Made when the copy lands, stored beside it (``OutputFile.poster``) and served through the
video's own signed link (``seedance.outputs.poster_url``): shown and withdrawn with it.
A poster is a nicety: extraction that fails is logged and the video is delivered without.
"""

import logging
import subprocess
from pathlib import Path

import imageio_ffmpeg
from django.core.files.base import ContentFile

from seedance.models import OutputFile

logger = logging.getLogger(__name__)

POSTER_MAX_WIDTH = 640
POSTER_TIMEOUT_SECONDS = 30
#: Far enough in to skip a fade from black, near enough for the shortest video.
POSTER_AT_SECONDS = 1.0


class PosterFailed(Exception):
    """ffmpeg gave no frame: the video is delivered without a poster."""


def poster_frame(video: Path, *, duration: float | None = None) -> bytes:
    """One JPEG frame of ``video``, at most ``POSTER_MAX_WIDTH`` wide."""
    at = min(POSTER_AT_SECONDS, duration / 3) if duration else 0.0
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error"]
    command += ["-ss", f"{at:.3f}", "-i", str(video), "-frames:v", "1"]
    command += ["-vf", f"scale='min({POSTER_MAX_WIDTH},iw)':-2", "-q:v", "4"]
    command += ["-f", "image2pipe", "-c:v", "mjpeg", "pipe:1"]
    try:
        result = subprocess.run(  # noqa: S603
            command, capture_output=True, timeout=POSTER_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PosterFailed(str(exc)) from exc
    if result.returncode != 0 or not result.stdout.startswith(b"\xff\xd8"):
        message = result.stderr.decode(errors="replace").strip()[-300:]
        raise PosterFailed(message or f"ffmpeg exited with {result.returncode}, no frame")
    return result.stdout


def poster_store(record: OutputFile, video: Path) -> str:
    """The stored name of a poster made from ``video`` (our copy), or "" if none could be."""
    try:
        frame = poster_frame(video, duration=record.duration)
    except PosterFailed as exc:
        logger.warning("No poster for %s: %s", record, exc)
        return ""
    name = record.poster.field.generate_filename(record, f"{record.run_id}-{record.index}.jpg")
    return record.poster.storage.save(name, ContentFile(frame))
