"""Real, small MP4s from the bundled ffmpeg, so players and downloads behave as in production.

Each (width, height, seconds, audio) is rendered once into the cache directory and shared
by every run that asks for it; a render never holds the store lock.
"""

import logging
import os
import re
import subprocess
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import imageio_ffmpeg

logger = logging.getLogger(__name__)

SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "720p": {
        "16:9": (1280, 720),
        "9:16": (720, 1280),
        "1:1": (720, 720),
        "4:3": (960, 720),
        "3:4": (720, 960),
        "21:9": (1680, 720),
    },
    "480p": {
        "16:9": (854, 480),
        "9:16": (480, 854),
        "1:1": (480, 480),
        "4:3": (640, 480),
        "3:4": (480, 640),
        "21:9": (1120, 480),
    },
}
AUTO_ASPECT_RATIO = "16:9"
AUTO_DURATION_SECONDS = 5
FRAME_RATE = 12
FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.mp4$")


def dimensions(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    ratio = AUTO_ASPECT_RATIO if aspect_ratio == "auto" else aspect_ratio
    return SIZES[resolution][ratio]


def seconds(duration: str) -> int:
    return AUTO_DURATION_SECONDS if duration == "auto" else int(duration)


def file_name(width: int, height: int, duration: int, audio: bool) -> str:
    return f"testsrc_{width}x{height}_{duration}s_{'audio' if audio else 'silent'}.mp4"


class RenderError(Exception):
    """ffmpeg could not produce the file; the run fails instead of hanging."""


class Renderer:
    """Renders on a small pool; concurrent asks for the same file share one render."""

    def __init__(self, cache_dir: Path, *, workers: int = 2) -> None:
        self.cache_dir = cache_dir
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox-render")
        self._lock = threading.Lock()
        self._pending: dict[str, Future[Path]] = {}

    def render(self, width: int, height: int, duration: int, audio: bool) -> Future[Path]:
        name = file_name(width, height, duration, audio)
        with self._lock:
            pending = self._pending.get(name)
            if pending is not None and not (pending.done() and pending.exception()):
                return pending
            future = self._pool.submit(self._render, name, width, height, duration, audio)
            self._pending[name] = future
            return future

    def path(self, name: str) -> Path | None:
        """The cached file called ``name``, or None; never a path outside the cache."""
        if not FILE_NAME.match(name):
            return None
        candidate = self.cache_dir / name
        return candidate if candidate.is_file() else None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _render(self, name: str, width: int, height: int, duration: int, audio: bool) -> Path:
        target = self.cache_dir / name
        if target.is_file():
            return target
        partial = self.cache_dir / f".{uuid.uuid4().hex}.partial"
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
        command += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={FRAME_RATE}"]
        if audio:
            command += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
        command += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        if audio:
            command += ["-c:a", "aac"]
        command += ["-t", str(duration), "-movflags", "+faststart", "-f", "mp4", str(partial)]
        try:
            result = subprocess.run(command, capture_output=True, timeout=120, check=False)  # noqa: S603
        except (OSError, subprocess.TimeoutExpired) as exc:
            partial.unlink(missing_ok=True)
            raise RenderError(str(exc)) from exc
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            message = result.stderr.decode(errors="replace").strip()[-500:]
            raise RenderError(message or f"ffmpeg exited with {result.returncode}")
        os.replace(partial, target)
        logger.debug("rendered %s", target)
        return target


class OneClip:
    """The bench mode's renderer: one tiny clip rendered at start, served for every run,
    whatever size and length it asked for, so a bench of thousands of runs writes no media."""

    SPEC = (160, 90, 2, False)  # long enough for the poster frame at 1 s

    def __init__(self, cache_dir: Path) -> None:
        renderer = Renderer(cache_dir, workers=1)
        try:
            self._clip = renderer.render(*self.SPEC).result()
        finally:
            renderer.close()
        self.cache_dir = cache_dir
        self._done: Future[Path] = Future()
        self._done.set_result(self._clip)

    def render(self, width: int, height: int, duration: int, audio: bool) -> Future[Path]:
        return self._done

    def path(self, name: str) -> Path | None:
        return self._clip if name == self._clip.name else None

    def close(self) -> None:
        pass


class RangeNotSatisfiable(Exception):
    """The asked byte range lies outside the file (HTTP 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte span one ``bytes=`` range asks for.

    None means "send the whole file": no header, or several ranges, which a server may
    ignore. Browsers seek with single ranges, which is all a player needs.
    """
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(header)
    return start, end
