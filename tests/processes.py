"""A script's whole process tree, read from /proc: what a shutdown test must see gone."""

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Proc:
    pid: int
    start: int  # clock ticks since boot: a reused pid is another process
    cmdline: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) of a process, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw.rpartition(")")[2].split()
    return fields[0], int(fields[1]), int(fields[19])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def descendants(root: int) -> set[Proc]:
    """Every living process under ``root``: children, grandchildren and further down."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            children.setdefault(stat[1], []).append(int(entry.name))
    found: set[Proc] = set()
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        stat = _stat(pid)
        if stat and stat[0] != "Z":
            found.add(Proc(pid, stat[2], _cmdline(pid)))
        todo.extend(children.get(pid, []))
    return found


def alive(procs: set[Proc]) -> set[Proc]:
    """The processes of ``procs`` still running (a zombie has exited)."""
    left = set()
    for proc in procs:
        stat = _stat(proc.pid)
        if stat and stat[2] == proc.start and stat[0] != "Z":
            left.add(proc)
    return left


def connected_to(port: int) -> set[str]:
    """Socket inodes of the established TCP connections to ``port`` on this machine."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].rpartition(":")[2], 16) == port and fields[3] == "01":
            inodes.add(fields[9])
    return inodes


def kill_one_talking_to(root: int, port: int) -> int | None:
    """SIGKILL one process under ``root`` caught mid-request to ``port``; its pid, or None
    when none of them holds such a connection right now."""
    sockets = {f"socket:[{inode}]" for inode in connected_to(port)}
    for proc in descendants(root):
        try:
            fds = {os.readlink(fd) for fd in Path(f"/proc/{proc.pid}/fd").iterdir()}
        except OSError:
            continue
        if fds & sockets:
            os.kill(proc.pid, signal.SIGKILL)
            return proc.pid
    return None


def wait_for_line(log: Path, *needles: str, seconds: float) -> str:
    """The log's text once a line holds every needle; fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if any(all(needle in line for needle in needles) for line in text.splitlines()):
            return text
        time.sleep(0.2)
    raise AssertionError(f"no line with {needles} in {log} within {seconds} s:\n{text}")


def enqueue_sleep(env: dict[str, str], seconds: int) -> None:
    """A task that keeps one worker busy, so stopping cannot simply wait for an idle cluster."""
    subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            "manage.py",
            "shell",
            "-c",
            f"from django_q.tasks import async_task; async_task('time.sleep', {seconds})",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def terminate_and_time(script: subprocess.Popen[bytes], tree: set[Proc]) -> tuple[float, set[Proc]]:
    """SIGTERM to the script alone; seconds until it and its whole tree were gone (or 15 s),
    and what was left then. Anything left is killed so no test leaks processes."""
    started = time.monotonic()
    script.send_signal(signal.SIGTERM)
    left = tree
    while time.monotonic() - started < 15:
        left = alive(tree)
        if not left and script.poll() is not None:
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    for proc in alive(tree):
        os.kill(proc.pid, signal.SIGKILL)
    if script.poll() is None:
        script.kill()
    script.wait(timeout=10)
    return elapsed, left
