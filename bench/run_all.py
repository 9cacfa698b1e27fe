"""`make bench`: every benchmark, then bench/RESULTS.md (each figure beside its bare one).

Usage: .venv/bin/python bench/run_all.py [--rounds 3] [--seconds 8] [--save-baseline]
Needs DATABASE_URL (PostgreSQL, the bench's own database) and REDIS_URL; the targets are
PostgreSQL figures. Figures land in bench/results/latest.json; ``--save-baseline`` also
keeps them as bench/results/baseline.json, the "before" the report compares profiles with.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
METER_TARGET = 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--save-baseline", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench: set DATABASE_URL (PostgreSQL) and REDIS_URL; the targets are for those")
    RESULTS.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-all-"))
    http = _json_of(
        ["bench/http_bench.py", "--rounds", str(args.rounds), "--seconds", str(args.seconds)],
        work / "http.json",
    )
    profiles = _json_of(
        ["bench/profile_requests.py", "--profiles", str(work / "profiles")], work / "profile.json"
    )
    for name in ("create", "callback"):
        profiles[name]["tree"] = (work / "profiles" / f"{name}.txt").read_text()
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "http": http,
        "profiles": profiles,
        "meter": {str(pushers): _meter_rate(pushers) for pushers in (1, 2)},
    }
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2))
    if args.save_baseline:
        (RESULTS / "baseline.json").write_text(json.dumps(result, indent=2))
    baseline_path = RESULTS / "baseline.json"
    baseline = json.loads(baseline_path.read_text()) if baseline_path.exists() else None
    (ROOT / "bench" / "RESULTS.md").write_text(report(result, baseline))
    print((ROOT / "bench" / "RESULTS.md").read_text())


def _json_of(command: list[str], path: Path) -> Any:
    subprocess.run([sys.executable, *command, "--json", str(path)], cwd=ROOT, check=True)  # noqa: S603
    return json.loads(path.read_text())


def _meter_rate(pushers: int) -> float:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "bench/meter_push.py", "--pushers", str(pushers)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"(\d+) meter events/s", done.stdout)
    if found is None:
        sys.exit(f"bench: meter_push printed no rate:\n{done.stdout}\n{done.stderr}")
    return float(found.group(1))


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


def report(result: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    http = result["http"]
    figures = http["ratios"]
    bare = figures["bare"]
    create, one, callback = (
        figures["create_tenants"],
        figures["create_one_tenant"],
        figures["callback"],
    )
    meter = max(result["meter"].values())
    # wrk stops counting at the deadline while the server finishes what is in flight, so
    # more recorded than answered is normal; fewer would be a 2xx for a lost callback.
    lost = sum(
        max(r["callback"]["ok"] - r["callback"]["recorded"]["woke"], 0) for r in http["rounds"]
    )
    rows = [
        (
            f"POST /api/v1/runs, {http['tenants']} tenants",
            _http(create),
            _http(bare),
            f"{create['rate_ratio']:.0%} rate, {create['p99_ratio']:.1f}x p99",
            ">= 50% rate, p99 <= 3x",
            create["rate_ratio"] >= 0.5 and create["p99_ratio"] <= 3,
        ),
        (
            "POST /api/v1/runs, one tenant",
            _http(one),
            _http(bare),
            f"{one['rate_ratio']:.0%} rate, {one['p99_ratio']:.1f}x p99",
            "(no target: one tenant's creates queue on its billing row)",
            None,
        ),
        (
            "Runflow callback to durable enqueue",
            _http(callback) + f", {lost} answered 2xx but not recorded",
            _http(bare),
            f"{callback['rate_ratio']:.0%} rate, {callback['p99_ratio']:.1f}x p99",
            ">= 40% rate",
            callback["rate_ratio"] >= 0.4 and lost == 0,
        ),
        (
            "Meter events to the Stripe fake (1 and 2 pushers)",
            " / ".join(f"{rate:.0f}/s" for rate in result["meter"].values()),
            "-",
            "-",
            ">= 1,000/s",
            meter >= METER_TARGET,
        ),
    ]
    lines = [
        "# Benchmark results",
        "",
        f"`make bench` at {result['at']} (commit {result['commit']}), PostgreSQL and Redis, "
        f"gunicorn per config/gunicorn.py, wrk with {http['connections']} connections; "
        f"median of {len(http['rounds'])} rounds, each figure beside the bare endpoint "
        "measured in the same round (bench/bare.py: one key SELECT, one INSERT). The "
        "machine is shared, so absolute figures move from run to run; the ratios are the "
        "measure.",
        "",
        "| figure | measured | bare, same run | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for name, measured, bare_figure, ratio, target, met in rows:
        verdict = "-" if met is None else ("met" if met else "missed")
        lines.append(f"| {name} | {measured} | {bare_figure} | {ratio} | {target} | {verdict} |")
    lines += [
        "",
        "End-to-end runs/s through the sandbox to the Stripe fake: not measured yet (the "
        "sandbox has no bench mode).",
        "",
        "## Rounds",
        "",
        "| round | bare | create, tenants | create, one tenant | callback |",
        "|---|---|---|---|---|",
    ]
    for number, r in enumerate(http["rounds"], 1):
        cells = [_http(r[name]) for name in ("bare", "create_tenants", "create_one_tenant")]
        lines.append(f"| {number} | {' | '.join(cells)} | {_http(r['callback'])} |")
    lines += ["", "## What the profiles showed, before and after", ""]
    lines += _profiles(result["profiles"], baseline["profiles"] if baseline else None, baseline)
    return "\n".join(lines) + "\n"


def _http(figures: dict[str, Any]) -> str:
    return (
        f"{figures['rate']:.0f}/s, p50 {figures['p50_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms"
    )


def _profiles(
    now: dict[str, Any], before: dict[str, Any] | None, baseline: dict[str, Any] | None
) -> list[str]:
    lines = [
        "One request in-process (Django's test client, bench.settings) on PostgreSQL: mean "
        "time over 50 after a warm-up, and the statements of one (bench/profile_requests.py).",
        "",
    ]
    for name in ("create", "callback"):
        lines.append(f"**{name}**")
        lines.append("")
        if before is not None:
            assert baseline is not None
            lines.append(
                f"- before (commit {baseline['commit']}): {before[name]['mean_ms']:.1f} ms, "
                f"{before[name]['queries']} statements: {', '.join(before[name]['statements'])}"
            )
        lines.append(
            f"- now: {now[name]['mean_ms']:.1f} ms, {now[name]['queries']} statements: "
            f"{', '.join(now[name]['statements'])}"
        )
        lines += ["", "```", _trimmed(now[name]["tree"]), "```", ""]
    return lines


def _trimmed(tree: str, keep: int = 45) -> str:
    """pyinstrument's tree from the request down, ``keep`` lines of it."""
    lines = [line.rstrip() for line in tree.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "Client.post" in line), 0)
    return "\n".join(lines[start : start + keep])


if __name__ == "__main__":
    main()
