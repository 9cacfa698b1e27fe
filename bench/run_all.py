"""`make bench`: every benchmark, then bench/RESULTS.md (each figure beside its bare one).

Usage: .venv/bin/python bench/run_all.py [--rounds 3] [--seconds 8] [--save-baseline]
       [--e2e-seconds 15] [--report-only]
Needs DATABASE_URL (PostgreSQL, the bench's own database) and REDIS_URL; the targets are
PostgreSQL figures. Figures land in bench/results/latest.json; ``--save-baseline`` also
keeps them as bench/results/baseline.json, the "before" the report compares with.
bench/FINDINGS.md (written by hand: what the profiles showed and what was changed) closes
the report.
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
E2E_TARGET = 0.5
#: (label, meter_push.py arguments): the "before" figures were one tenant, 1 and 2 pushers.
METER_CASES = (
    ("1 tenant, 1 pusher", ["--tenants", "1", "--pushers", "1"]),
    ("1 tenant, 2 pushers", ["--tenants", "1", "--pushers", "2"]),
    ("8 tenants, 1 pusher", ["--tenants", "8", "--pushers", "1"]),
    ("8 tenants, 2 pushers", ["--tenants", "8", "--pushers", "2"]),
    (
        "8 tenants, 20 ms answers, 1 call at a time",
        ["--tenants", "8", "--rows", "400", "--latency", "0.02", "--concurrency", "1"],
    ),
    (
        "8 tenants, 20 ms answers, 8 calls at a time",
        ["--tenants", "8", "--rows", "400", "--latency", "0.02", "--concurrency", "8"],
    ),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--save-baseline", action="store_true")
    parser.add_argument("--e2e-seconds", type=float, default=15.0, help="of creates offered")
    parser.add_argument(
        "--report-only", action="store_true", help="RESULTS.md again from latest.json"
    )
    args = parser.parse_args()
    if args.report_only:
        write_report(json.loads((RESULTS / "latest.json").read_text()))
        return
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
    meter = {label: _meter_rate(case) for label, case in METER_CASES}
    _meter_rate(["--tenants", "1", "--profile", str(work / "profiles" / "meter.txt")])
    profiles["meter"] = {"tree": (work / "profiles" / "meter.txt").read_text()}
    create_rate = http["ratios"]["create_tenants"]["rate"]
    e2e = _json_of(
        [
            "bench/end_to_end.py",
            "--rate",
            f"{create_rate:.1f}",
            "--runs",
            str(max(100, round(create_rate * args.e2e_seconds))),
        ],
        work / "e2e.json",
        check=False,  # lost runs exit non-zero: the report says so
    )
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "http": http,
        "profiles": profiles,
        "meter": meter,
        "end_to_end": e2e,
    }
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2))
    if args.save_baseline:
        (RESULTS / "baseline.json").write_text(json.dumps(result, indent=2))
    write_report(result)


def write_report(result: dict[str, Any]) -> None:
    baseline_path = RESULTS / "baseline.json"
    baseline = json.loads(baseline_path.read_text()) if baseline_path.exists() else None
    (ROOT / "bench" / "RESULTS.md").write_text(report(result, baseline))
    print((ROOT / "bench" / "RESULTS.md").read_text())


def _json_of(command: list[str], path: Path, *, check: bool = True) -> Any:
    subprocess.run([sys.executable, *command, "--json", str(path)], cwd=ROOT, check=check)  # noqa: S603
    if not path.exists():
        sys.exit(f"bench: {command[0]} wrote no figures")
    return json.loads(path.read_text())


def _meter_rate(arguments: list[str]) -> float:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "bench/meter_push.py", *arguments],
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
    before = baseline["http"]["ratios"] if baseline else None
    create, one, callback = (
        figures["create_tenants"],
        figures["create_one_tenant"],
        figures["callback"],
    )
    # wrk stops counting at the deadline while the server finishes what is in flight, so
    # more recorded than answered is normal; fewer would be a 2xx for a lost callback.
    lost = sum(
        max(r["callback"]["ok"] - r["callback"]["recorded"]["woke"], 0) for r in http["rounds"]
    )
    e2e = result["end_to_end"]
    e2e_ratio = e2e["rate"] / create["rate"] if create["rate"] else 0.0
    meter = result["meter"]
    best_meter = max(meter.values())
    rows = [
        (
            f"POST /api/v1/runs, {http['tenants']} tenants",
            _ratio(before["create_tenants"]) if before else "-",
            _http(create),
            _http(bare),
            _ratio(create),
            ">= 50% rate, p99 <= 3x",
            create["rate_ratio"] >= 0.5 and create["p99_ratio"] <= 3,
        ),
        (
            "POST /api/v1/runs, one tenant",
            _ratio(before["create_one_tenant"]) if before else "-",
            _http(one),
            _http(bare),
            _ratio(one),
            "(no target: one tenant's creates queue on its billing row)",
            None,
        ),
        (
            "Runflow callback to durable enqueue",
            _ratio(before["callback"]) if before else "-",
            _http(callback) + f", {lost} answered 2xx but not recorded",
            _http(bare),
            _ratio(callback),
            ">= 40% rate",
            callback["rate_ratio"] >= 0.4 and lost == 0,
        ),
        (
            "End to end: create to meter event accepted at the Stripe fake "
            f"({e2e['billed']} of {e2e['created']} runs, {e2e['tenants']} tenants)",
            "not measured",
            f"{e2e['rate']:.1f} runs/s; create to billed p50 "
            f"{e2e['to_billed']['p50_ms'] / 1000:.1f} s, p99 "
            f"{e2e['to_billed']['p99_ms'] / 1000:.1f} s; {e2e['lost']} lost",
            f"create-only {create['rate']:.0f}/s (offered {e2e['offered_rate']:.0f}/s)",
            f"{e2e_ratio:.0%} of create-only",
            ">= 50% of create-only, 0 lost",
            e2e_ratio >= E2E_TARGET and e2e["lost"] == 0,
        ),
    ]
    old_meter = baseline["meter"] if baseline else {}
    old_labels = {"1 tenant, 1 pusher": "1", "1 tenant, 2 pushers": "2"}
    for label, rate in meter.items():
        old = old_meter.get(label, old_meter.get(old_labels.get(label, ""), None))
        rows.append(
            (
                f"Meter events to the Stripe fake, {label}",
                f"{old:.0f}/s" if old is not None else "-",
                f"{rate:.0f}/s",
                "-",
                "-",
                ">= 1,000/s (best case)",
                best_meter >= METER_TARGET if rate == best_meter else None,
            )
        )
    lines = [
        "# Benchmark results",
        "",
        f"`make bench` at {result['at']} (commit {result['commit']}), PostgreSQL and Redis, "
        f"gunicorn per config/gunicorn.py, wrk with {http['connections']} connections; "
        f"median of {len(http['rounds'])} rounds, each figure beside the bare endpoint "
        "measured in the same round (bench/bare.py: one key SELECT, one INSERT). The "
        "machine (2 cores) is shared with other work, so absolute figures move from run to "
        "run, before and now alike; the ratios measured in the same round are the measure.",
        "",
        "| figure | before"
        + (f" (commit {baseline['commit']})" if baseline else "")
        + " | now | bare or reference, same run | ratio now | target | met now |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, old_figure, measured, bare_figure, ratio, target, met in rows:
        verdict = "-" if met is None else ("met" if met else "missed")
        lines.append(
            f"| {name} | {old_figure} | {measured} | {bare_figure} | {ratio} | {target} "
            f"| {verdict} |"
        )
    lines += [
        "",
        "Before: rate and p99 as ratios to that run's bare endpoint (absolute figures are in "
        "bench/results/baseline.json).",
        "",
        "## End to end",
        "",
        _end_to_end(e2e),
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
    findings = ROOT / "bench" / "FINDINGS.md"
    if findings.exists():
        lines += ["", findings.read_text().rstrip()]
    return "\n".join(lines) + "\n"


def _ratio(figures: dict[str, Any]) -> str:
    return f"{figures['rate_ratio']:.0%} rate, {figures['p99_ratio']:.1f}x p99"


def _end_to_end(e2e: dict[str, Any]) -> str:
    return (
        f"bench/end_to_end.py: {e2e['runs']} creates offered at {e2e['offered_rate']:.1f}/s "
        f"(the create-only rate of this run) over {e2e['tenants']} tenants to gunicorn, "
        f"{e2e['qclusters']} qclusters of {e2e['workers']} workers on the Redis broker, the "
        "dispatcher, the Runflow sandbox in bench mode and the Stripe fake, all on the same 2 "
        f"cores. {e2e['created']} created (refused: {e2e['refused'] or 'none'}), create p50 "
        f"{e2e['create']['p50_ms']:.0f} ms, p99 {e2e['create']['p99_ms']:.0f} ms; "
        f"{e2e['billed']} billed at the fake in {e2e['seconds']:.1f} s from the first create "
        f"to the last acceptance: {e2e['rate']:.1f} runs/s; {e2e['lost']} lost"
        + (f" (their states: {e2e['lost_states']})" if e2e["lost"] else "")
        + f". {e2e['deleted_copies']} stored copies (videos and posters) deleted as it went"
        + (
            f"; {e2e['still_queued']} tasks were still queued when the bench stopped waiting"
            if e2e.get("still_queued")
            else ""
        )
        + "."
    )


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
    if "meter" in now:
        lines += [
            "**meter push** (bench/meter_push.py --tenants 1 --profile: the push loop, one "
            "pusher, 3,000 rows)",
            "",
            "```",
            _trimmed(now["meter"]["tree"], start_at="push_pending_usage", keep=30),
            "```",
            "",
        ]
    return lines


def _trimmed(tree: str, keep: int = 45, start_at: str = "Client.post") -> str:
    """pyinstrument's tree from the request down, ``keep`` lines of it."""
    lines = [line.rstrip() for line in tree.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if start_at in line), 0)
    return "\n".join(lines[start : start + keep])


if __name__ == "__main__":
    main()
