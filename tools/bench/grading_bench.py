"""Benchmark of grading (``make bench``, grading section): time per submission, throughput
with 1, 2 and N parallel workers, and what grading a whole course costs.

Every submission is the reference solution of the assignment (full marks expected), graded
for real: its own bubblewrap sandbox, the verifier, the feedback, through
``course_grader.schedule.map_submissions`` exactly as ``make grade`` does.

    python tools/bench/grading_bench.py                # short profile, 1/2/N workers, full profile
    python tools/bench/grading_bench.py --no-full      # skip the full profile (minutes per submission)
    python tools/bench/grading_bench.py --students 2 --rounds 1 --no-full   # a quick try

Writes ``docs/benchmarks_grading.json`` and the section between the grading markers of
``docs/benchmarks.md`` (appended on the first run).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from course_utils import manifest

REPO = Path(__file__).resolve().parents[2]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
ASSIGNMENT = manifest.load(REPO).assignments[0].name
START, END = "<!-- grading-bench:start -->", "<!-- grading-bench:end -->"
STUDENTS_IN_MODEL = (100, 300)
MACHINES_IN_MODEL = (1, 5, 10, 25, 50)


def make_course(root: Path, students: int) -> list[Path]:
    """A course folder whose ``students`` submissions are all the reference solution."""
    import nbformat

    source = REPO / "grading" / "source" / ASSIGNMENT
    shutil.copytree(source, root / "source" / ASSIGNMENT)
    nb = nbformat.read(source / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    folders = []
    for i in range(students):
        folder = root / "submitted" / f"student-{i:02d}"
        (folder / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(nb, folder / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
        folders.append(folder)
    return folders


class BenchError(RuntimeError):
    """The bench measured a broken grading run: nothing is reported."""


def grade_batch(folders, settings, workers):
    """Grades ``folders`` with ``workers`` parallel workers; wall time, results, load."""
    from course_grader.pipeline import grade_submission
    from course_grader.schedule import map_submissions

    load_before, at = os.getloadavg(), now()
    start = time.perf_counter()
    results = list(map_submissions(grade_submission, folders, settings, jobs=workers))
    wall = time.perf_counter() - start
    failed = [f"{r.student}: {r.score:g}/{r.max_score:g} {r.status}" for r in results]
    failed = [f for r, f in zip(results, failed) if r.status != "graded" or r.score < r.max_score]
    if failed:
        # Throughput of a grader that fails the reference would be a number about a broken run.
        raise BenchError(
            "The reference solution did not get full marks, so no time or cost is reported: "
            + "; ".join(failed)
        )
    return {
        "workers": workers,
        "at": at,
        "submissions": len(folders),
        "wall_s": round(wall, 1),
        "per_hour": round(len(folders) / wall * 3600, 1),
        "seconds_each": [r.seconds for r in results],
        "scores": [f"{r.score:g}/{r.max_score:g} {r.status}" for r in results],
        "full_marks": all(r.status == "graded" and r.score == r.max_score for r in results),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def run(args) -> dict:
    from course_grader.pipeline import GradingSettings, check_reference, preflight
    from course_grader.schedule import default_jobs

    data = args.data or (
        str(SHARED_DATASETS) if (SHARED_DATASETS / "cifar-10").is_dir() else "sample"
    )
    work = Path(tempfile.mkdtemp(prefix="grading-bench-", dir=args.workdir))
    folders = make_course(work, args.students)
    short = GradingSettings.from_env(course_dir=work, course_data=data, fast=True)
    full = GradingSettings.from_env(course_dir=work, course_data=data, fast=False)
    preflight(short)
    machine_jobs = default_jobs(short.memory_bytes)
    workers = sorted({1, 2, machine_jobs} | set(args.workers))
    report = {
        "started": now(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "nice": os.nice(0),
        "course_data": "sample" if data == "sample" else "real CIFAR-10",
        "memory_mb_per_submission": short.memory_mb,
        "default_jobs": machine_jobs,
        "students": args.students,
        "rounds": args.rounds,
    }
    print(f"Grading bench in {work}: {args.students} submissions, workers {workers}", flush=True)
    done = previous_batches(args.resume)
    if len(done) < args.rounds * len(workers) + args.full:
        # Warm-up (caches, kernel start, first imports) and the check make grade does first:
        # the reference must get full marks in this very sandbox, or nothing is measured.
        check_reference(short)
    short_runs = []
    for round_ in range(args.rounds):  # interleaved, so every worker count sees the same load
        for w in workers:
            batch = done.get((round_, w)) or grade_batch(folders, short, w)
            batch["round"] = round_
            print(json.dumps(batch), flush=True)
            short_runs.append(batch)
    report["short"] = short_runs
    if args.full:
        batch = done.get("full") or grade_batch(folders[:1], full, 1)
        batch["profile"] = "full"
        print(json.dumps(batch), flush=True)
        report["full"] = batch
    report["finished"] = now()
    shutil.rmtree(work, ignore_errors=True)
    return report


def previous_batches(log: Path | None) -> dict:
    """Batches printed by an interrupted run (its JSON lines), to go on from where it stopped."""
    done = {}
    for line in log.read_text().splitlines() if log else []:
        if line.startswith("{"):
            batch = json.loads(line)
            done[
                "full" if batch.get("profile") == "full" else (batch["round"], batch["workers"])
            ] = batch
    return done


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def summarize(report: dict) -> dict:
    """Medians per worker count, speed-ups against one worker, the cost model."""
    by_workers = {}
    for batch in report["short"]:
        by_workers.setdefault(batch["workers"], []).append(batch)
    rows = []
    for workers, batches in sorted(by_workers.items()):
        rows.append(
            {
                "workers": workers,
                "per_hour": statistics.median(b["per_hour"] for b in batches),
                "wall_s": statistics.median(b["wall_s"] for b in batches),
                "seconds_each": statistics.median(s for b in batches for s in b["seconds_each"]),
                "full_marks": all(b["full_marks"] for b in batches),
            }
        )
    one = next(r for r in rows if r["workers"] == 1)
    for row in rows:
        row["speedup"] = row["per_hour"] / one["per_hour"]
    summary = {"rows": rows, "short_s": one["seconds_each"]}
    two = next(r for r in rows if r["workers"] == 2)
    summary["speedup_2"] = two["speedup"]
    if "full" in report:
        full_s = statistics.median(report["full"]["seconds_each"])
        summary["full_s"] = full_s
        # One machine like this: 1 worker, or 2 workers at the short profile's speed-up
        # (an optimistic bound for the full profile, where training dominates).
        model = {}
        for n in STUDENTS_IN_MODEL:
            model[n] = {
                "one_machine_1_worker_h": n * full_s / 3600,
                "one_machine_2_workers_h": n * full_s / 3600 / max(1.0, two["speedup"]),
                "k_machines_h": {k: math.ceil(n / k) * full_s / 3600 for k in MACHINES_IN_MODEL},
            }
        summary["model"] = model
    return summary


def hours(h: float) -> str:
    return f"{h:.1f} ч" if h >= 1 else f"{h * 60:.0f} мин"


def markdown(report: dict, summary: dict) -> str:
    lines = [
        START,
        "## Проверка работ: время на работу, пропускная способность, стоимость курса",
        "",
        "Из `python tools/bench/grading_bench.py` (часть `make bench`): каждая работа — эталонное",
        "решение задания, проверенное по-настоящему (своя песочница bubblewrap, проверяющий,",
        "отзыв) через `map_submissions`, как в `make grade`. "
        f"{report['started']} — {report['finished']}"
        + (
            " (продолжение прерванного запуска, `--resume`: пачки без времени измерены раньше)"
            if any("at" not in b for b in [*report["short"], report.get("full", {"at": ""})])
            else ""
        )
        + "; сырые данные — [`benchmarks_grading.json`](benchmarks_grading.json).",
        "",
        f"Машина: {report['usable_cpus']} ядра, {report['memory_gib']} ГиБ; данные: "
        f"{report['course_data']}; предел памяти проверки {report['memory_mb_per_submission']} МБ, "
        f"поэтому `JOBS` по умолчанию здесь = {report['default_jobs']}. Процесс шёл с nice "
        f"{report['nice']}.",
        "",
        "**Нагрузка.** Машина может быть общей (на тех же ядрах — чужие задачи).",
        "Средняя загрузка (`uptime`, 1 / 5 / 15 мин) до и после каждого замера — в таблице;",
        "загрузка выше числа ядер значит, что проверке доставалась лишь часть процессора.",
        "Каждое число — медиана по раундам; в каждом раунде число исполнителей чередуется,",
        "чтобы все видели одну и ту же нагрузку.",
        "",
        f"### Короткий профиль (`COURSE_FAST=1`): работ в пачке — {report['students']}, "
        f"раундов — {report['rounds']}",
        "",
        "| исполнителей | работ в час | на пачку, с | на одну работу, с (медиана) | "
        "к одному исполнителю | все 10/10 |",
        "|---|---|---|---|---|---|",
    ]
    for row in summary["rows"]:
        lines.append(
            f"| {row['workers']} | {row['per_hour']:.0f} | {row['wall_s']:.0f} | "
            f"{row['seconds_each']:.0f} | {row['speedup']:.2f}× | "
            f"{'да' if row['full_marks'] else 'НЕТ'} |"
        )
    lines += ["", "Загрузка по замерам (до → после):", ""]
    for batch in report["short"]:
        before = " / ".join(f"{x:g}" for x in batch["load_before"])
        after = " / ".join(f"{x:g}" for x in batch["load_after"])
        lines.append(
            f"- раунд {batch['round'] + 1}, {batch['workers']} исп., "
            f"{batch.get('at', 'время не записано')}: {batch['wall_s']:g} с; "
            f"загрузка {before} → {after}"
        )
    target = summary["speedup_2"] >= 1.5
    lines += [
        "",
        "**Цель: 2 исполнителя дают не меньше 1,5× пропускной способности одного** — "
        + (
            f"выполнена ({summary['speedup_2']:.2f}×)."
            if target
            else f"НЕ выполнена: {summary['speedup_2']:.2f}×. Проверки делят два ядра машины "
            "с чужими задачами (см. загрузку): когда загрузка выше числа ядер, второму "
            "исполнителю почти нечего взять. Повторите замер на свободной машине."
        ),
    ]
    if "full" in report:
        full = report["full"]
        model = summary["model"]
        lines += [
            "",
            "### Полный профиль и стоимость курса",
            "",
            "Полный профиль (параметры эталона без COURSE_FAST, все изображения четырёх классов, "
            f"один исполнитель на всех ядрах): "
            f"**{summary['full_s']:.0f} с** на работу ({full['scores'][0]}; загрузка "
            f"{' / '.join(f'{x:g}' for x in full['load_before'])} → "
            f"{' / '.join(f'{x:g}' for x in full['load_after'])}). Короткий профиль: "
            f"{summary['short_s']:.0f} с.",
            "",
            "Модель: работы проверяются независимо, значит на k одинаковых машинах время — "
            "⌈n / k⌉ × (время одной работы). «2 исполнителя» на одной машине — с ускорением "
            "короткого профиля (оценка сверху: в полном профиле обучение уже занимает оба ядра).",
            "",
            "| студентов | 1 машина, 1 исполнитель | 1 машина, 2 исполнителя | "
            + " | ".join(f"{k} машин" for k in MACHINES_IN_MODEL[1:])
            + " |",
            "|---|---|---|" + "---|" * (len(MACHINES_IN_MODEL) - 1),
        ]
        for n in STUDENTS_IN_MODEL:
            m = model[n]
            cells = [hours(m["k_machines_h"][k]) for k in MACHINES_IN_MODEL[1:]]
            lines.append(
                f"| {n} | {hours(m['one_machine_1_worker_h'])} | "
                f"{hours(m['one_machine_2_workers_h'])} | " + " | ".join(cells) + " |"
            )
        lines += [
            "",
            "«Машина» — как эта (2 ядра, одна работа на обоих); на кластере Dask это k рабочих "
            "процессов по 2 ядра (`GRADING_SCHEDULER`, см. grading/README.md).",
        ]
    lines.append(END)
    return "\n".join(lines)


def write_markdown(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=4, help="submissions per batch")
    parser.add_argument("--rounds", type=int, default=2, help="batches per worker count")
    parser.add_argument("--workers", type=int, nargs="*", default=[], help="extra worker counts")
    parser.add_argument("--full", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--data", help="COURSE_DATA (default: ../shared/datasets, else sample)")
    parser.add_argument("--workdir", help="where to build the temporary course folder")
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument(
        "--resume", type=Path, help="output of an interrupted run: reuse its batches"
    )
    args = parser.parse_args(argv)
    if shutil.which("bwrap") is None:
        print("Grading bench skipped: no bubblewrap (apt-get install bubblewrap).", file=sys.stderr)
        return 0
    from course_grader.pipeline import PreflightError

    try:
        report = run(args)
    except (BenchError, PreflightError) as exc:
        print(f"Grading bench failed: {exc}", file=sys.stderr)
        return 1
    summary = summarize(report)
    report["summary"] = summary
    (args.out / "benchmarks_grading.json").write_text(json.dumps(report, indent=1) + "\n")
    section = markdown(report, summary)
    write_markdown(args.out / "benchmarks.md", section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
