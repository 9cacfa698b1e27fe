"""Read an MP4's real duration, size and streams with the ffmpeg bundled in imageio-ffmpeg."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    width: int
    height: int
    has_audio: bool


def probe_mp4(path: Path) -> MediaInfo:
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    info = result.stderr
    duration = re.search(r"Duration: (\d+):(\d+):(\d+\.\d+)", info)
    size = re.search(r"Stream #.*Video:.*?(\d{2,5})x(\d{2,5})", info)
    assert duration, f"not a video: {info[-500:]}"
    assert size, f"no video stream: {info[-500:]}"
    hours, minutes, seconds = duration.groups()
    return MediaInfo(
        duration=int(hours) * 3600 + int(minutes) * 60 + float(seconds),
        width=int(size.group(1)),
        height=int(size.group(2)),
        has_audio=bool(re.search(r"Stream #.*Audio:", info)),
    )
