"""Time to terminal after a lost create answer, at production timings.

Usage: .venv/bin/python bench/lost_creates.py [--runs 60] [--timeout 10] [--margin 30]
       [--sweep 5] [--workers 4] [--spacing 1]
Runs tests/seedance/test_lost_creates_chaos.py (a qcluster and the dispatcher against the
sandbox, which loses create answers every way Runflow documents) with these settings and
prints its figures: p50/p95 from a lost answer's first create attempt to the run's end.
Uses DATABASE_URL and REDIS_URL when set (PostgreSQL and Redis), else SQLite.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/seedance/test_lost_creates_chaos.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--timeout", type=float, default=10.0, help="RUNFLOW_TIMEOUT, seconds")
    parser.add_argument("--margin", type=float, default=30.0, help="the outcome window's tail")
    parser.add_argument("--sweep", type=float, default=5.0, help="SEEDANCE_STATUS_SWEEP_SECONDS")
    parser.add_argument("--workers", type=int, default=4, help="Q_WORKERS")
    parser.add_argument(
        "--spacing", type=float, default=1.0, help="seconds between runs (0: one burst)"
    )
    args = parser.parse_args()
    env = {
        **os.environ,
        "LOST_CREATES_RUNS": str(args.runs),
        "LOST_CREATES_RUNFLOW_TIMEOUT": str(args.timeout),
        "LOST_CREATES_MARGIN_SECONDS": str(args.margin),
        "LOST_CREATES_SWEEP_SECONDS": str(args.sweep),
        "LOST_CREATES_WORKERS": str(args.workers),
        "LOST_CREATES_SPACING_SECONDS": str(args.spacing),
    }
    command = [sys.executable, "-m", "pytest", TEST, "-q", "-s", "-p", "no:cacheprovider"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    figures = [
        line
        for line in done.stdout.splitlines()
        if line.startswith(("lost-create chaos:", "  ")) and not line.lstrip().startswith("{")
    ]
    print("\n".join(figures) or done.stdout[-4000:] + done.stderr[-4000:])
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
