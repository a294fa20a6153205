"""Paired grading benchmark: time per submission of this checkout's grader against an older one.

Both graders grade the assignment's reference solution (one submission, one worker, the short
profile, through ``map_submissions`` exactly as ``make grade``), alternately: old, new, old,
new... so both see the same load of a shared machine. Printed: every run, the median of each,
and the median of the per-pair ratios new/old (the figure to quote: absolute seconds move with
the machine's load, the paired ratio much less).

    git worktree add /tmp/baseline f43e07c
    python tools/bench/grading_paired.py --baseline /tmp/baseline --rounds 3

The baseline runs with ``PYTHONPATH=<baseline>`` so its own ``course_utils`` is imported.
Graders before the package split (``course_utils.grading``) build the sandbox's environment
from scratch; for their sandboxed kernel to import the baseline's code too, add
``"PYTHONPATH"`` to the variables ``sandbox_env`` passes through (one line in
``course_utils/grading/sandbox.py``) in the baseline worktree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def grade_once(course_data: str) -> dict:
    """Runs in the checkout under test (cwd): grades the reference once, returns the batch."""
    sys.path.insert(0, str(Path.cwd() / "tools" / "bench"))
    import grading_bench

    try:  # after the split: the instructor's package
        from course_grader.pipeline import GradingSettings, preflight
    except ImportError:  # before it: inside course_utils
        from course_utils.grading.pipeline import GradingSettings, preflight

    work = Path(tempfile.mkdtemp(prefix="grading-paired-"))
    folders = grading_bench.make_course(work, 1)
    settings = GradingSettings.from_env(course_dir=work, course_data=course_data, fast=True)
    preflight(settings)
    return grading_bench.grade_batch(folders, settings, 1)


def run_in(checkout: Path, course_data: str, baseline: bool) -> dict:
    env = dict(os.environ)
    if baseline:
        env["PYTHONPATH"] = str(checkout)
        env["GRADING_PAIRED_OLD"] = "1"  # the old checkout imports only its own course_utils
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--one", course_data],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="checkout of the older grader")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", help="COURSE_DATA (default: ../shared/datasets, else sample)")
    parser.add_argument("--json", type=Path, help="where to write every run")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        if os.environ.get("GRADING_PAIRED_OLD"):
            sys.modules["course_grader"] = None  # type: ignore[assignment]
        print("RESULT " + json.dumps(grade_once(args.one)), flush=True)
        return 0
    if args.baseline is None:
        parser.error("--baseline is required")
    # This process grades nothing itself: the sibling bench is imported only for its data
    # folder (each child process imports its own checkout's bench).
    from grading_bench import SHARED_DATASETS

    data = args.data or (
        str(SHARED_DATASETS) if (SHARED_DATASETS / "cifar-10").is_dir() else "sample"
    )
    runs = []
    for round_ in range(args.rounds):
        for name, checkout in (("old", args.baseline.resolve()), ("new", REPO)):
            batch = run_in(checkout, data, baseline=name == "old")
            runs.append({"round": round_, "grader": name, **batch})
            print(f"round {round_ + 1} {name}: {batch['wall_s']} s, {batch['scores']}", flush=True)
    old = [r["wall_s"] for r in runs if r["grader"] == "old"]
    new = [r["wall_s"] for r in runs if r["grader"] == "new"]
    ratios = [n / o for o, n in zip(old, new)]
    print(
        f"old median {statistics.median(old):.1f} s, new median {statistics.median(new):.1f} s; "
        f"paired ratio new/old: median {statistics.median(ratios):.2f} "
        f"({', '.join(f'{r:.2f}' for r in ratios)})"
    )
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
