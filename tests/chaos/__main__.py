"""``python -m tests.chaos --runs N``: the chaos run on a real stack, then its invariant table.

``--check FILE`` checks a state recorded earlier instead (no stack). Exits 1 on any breach.
"""

import argparse
import json
import sys
from pathlib import Path

from tests.chaos.checker import check, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--runs", type=int, default=100, help="runs to submit")
    parser.add_argument("--check", type=Path, help="check this recorded state; start nothing")
    parser.add_argument(
        "--record", type=Path, default=Path("var/chaos/state.json"), help="where the state goes"
    )
    args = parser.parse_args(argv)
    if args.check is None:
        from tests.chaos.run import chaos_run  # the stack needs Django set up; checking does not

        chaos_run(runs=args.runs, record_to=args.record)
        state_path = args.record
    else:
        state_path = args.check
    outcomes = check(json.loads(state_path.read_text()))
    print(table(outcomes), flush=True)
    return 1 if any(outcome.breaches for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
