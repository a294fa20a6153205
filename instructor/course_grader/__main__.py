"""``python -m course_grader``: проверить работы (``make grade`` / ``make regrade``)."""

from __future__ import annotations

import argparse
import sys

from course_grader.pipeline import GradingSettings, PreflightError, grade_all
from course_utils import manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Проверка заданий курса (grading/README.md).")
    parser.add_argument(
        "--assignment", default=manifest.load().assignments[0].name, help="задание из course.toml"
    )
    parser.add_argument(
        "--student", action="append", help="перепроверить только этого студента (можно несколько)"
    )
    parser.add_argument("--all", action="store_true", help="перепроверить все работы")
    args = parser.parse_args(argv)
    try:
        grade_all(
            GradingSettings.from_env(assignment=args.assignment),
            students=args.student,
            force=args.all,
        )
    except PreflightError as exc:
        print(f"Проверка не начата: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
