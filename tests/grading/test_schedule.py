"""Планирование проверки (instructor/course_grader/schedule.py) на настоящем кластере Dask.

Настоящие ``dask scheduler`` и два ``dask worker`` на localhost (случайные порты); работы
проверяет дешёвая детерминированная замена ``grade_submission``, и одна из работ убивает
свой рабочий процесс посреди проверки. Оценки должны совпасть с проверкой по очереди.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import dask.system
import pytest

pytest.importorskip("distributed")

from course_grader.schedule import (  # noqa: E402
    default_jobs,
    map_submissions,
    thread_env,
)
from course_utils import manifest  # noqa: E402

STUDENTS = ["ada", "boris", "killer", "dina", "egor", "fyodor"]
DASK = Path(sys.executable).with_name("dask")


@dataclasses.dataclass(frozen=True)
class StandInSettings:
    output: Path


@dataclasses.dataclass(frozen=True)
class StandInResult:
    student: str
    status: str
    points: dict


def grade_stand_in(submission: Path, settings: StandInSettings) -> StandInResult:
    """Замена ``grade_submission``: баллы — из содержимого работы, отзыв — в свою папку.

    Каждая попытка оставляет в папке работы файл ``attempt-<pid>`` с размером пула потоков,
    который ей достался. Работа ``killer`` при первой попытке убивает свой процесс.
    """
    text = (submission / "answer.txt").read_text()
    attempts = sorted(submission.glob("attempt-*"))
    (submission / f"attempt-{os.getpid()}").write_text(os.environ.get("OMP_NUM_THREADS", ""))
    if "kill my worker" in text and not attempts:
        os.kill(os.getpid(), signal.SIGKILL)
    digest = hashlib.sha256(text.encode()).digest()
    points = {"data": digest[0] % 3, "model": digest[1] % 4, "morph": digest[2] % 4}
    feedback = settings.output / submission.name
    feedback.mkdir(parents=True, exist_ok=True)
    (feedback / "feedback.json").write_text(json.dumps(points))
    return StandInResult(submission.name, "graded", points)


def make_submissions(root: Path) -> list[Path]:
    folders = []
    for student in STUDENTS:
        folder = root / student
        folder.mkdir(parents=True)
        answer = "kill my worker" if student == "killer" else f"answer of {student}"
        (folder / "answer.txt").write_text(answer)
        folders.append(folder)
    return folders


def attempts(folder: Path) -> dict[int, str]:
    return {int(p.name.split("-")[1]): p.read_text() for p in folder.glob("attempt-*")}


def grade_serially(tmp_path: Path) -> list[StandInResult]:
    folders = make_submissions(tmp_path / "serial")
    settings = StandInSettings(tmp_path / "serial-feedback")
    # The killer's first attempt must not kill the test itself: give it a past attempt.
    (tmp_path / "serial" / "killer" / "attempt-0").write_text("")
    return list(map_submissions(grade_stand_in, folders, settings, jobs=1, progress=False))


def _stop(process: subprocess.Popen) -> None:
    """Останавливает процесс и всех его потомков (он — глава своей группы процессов)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # nanny children that outlived their parent
    except ProcessLookupError:
        pass
    process.wait()


@pytest.fixture
def localhost_cluster(tmp_path):
    """Адрес настоящего планировщика Dask с двумя рабочими процессами на localhost."""
    from distributed import Client

    module_root = Path(__file__).parents[len(__name__.split(".")) - 1]
    path = [str(module_root), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, path)))
    scheduler_file = tmp_path / "scheduler.json"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    processes = []

    def start(name, *args):
        log = open(logs / f"{name}.log", "w")
        processes.append(
            subprocess.Popen(
                [str(DASK), *args],
                env=env,
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    try:
        start(
            "scheduler",
            "scheduler",
            "--host=127.0.0.1",
            "--port=0",
            "--no-dashboard",
            f"--scheduler-file={scheduler_file}",
        )
        for i in range(2):
            start(
                f"worker-{i}",
                "worker",
                f"--scheduler-file={scheduler_file}",
                "--nthreads=1",
                "--memory-limit=0",
                "--no-dashboard",
                "--death-timeout=120",
                f"--local-directory={tmp_path / f'worker-{i}'}",
            )
        with Client(scheduler_file=str(scheduler_file), timeout="120s") as client:
            client.wait_for_workers(2, timeout=120)
            yield client.scheduler.address
    finally:
        for process in reversed(processes):
            _stop(process)


def test_localhost_cluster_grades_like_serial_and_retries_a_killed_worker(
    tmp_path, localhost_cluster, monkeypatch
):
    expected = grade_serially(tmp_path)

    folders = make_submissions(tmp_path / "cluster")
    settings = StandInSettings(tmp_path / "cluster-feedback")
    monkeypatch.setenv("GRADING_SCHEDULER", localhost_cluster)  # as `make grade` passes it
    results = list(map_submissions(grade_stand_in, folders, settings, progress=False))

    assert results == expected  # same grades, same order, each student exactly once
    assert [r.student for r in results] == STUDENTS
    killer = attempts(tmp_path / "cluster" / "killer")
    assert len(killer) == 2  # killed mid-grading, then graded again by another process
    for student in STUDENTS:
        # A result still held by the dead worker is computed again, yet recorded once.
        assert 1 <= len(attempts(tmp_path / "cluster" / student)) <= 2
        feedback = tmp_path / "cluster-feedback" / student / "feedback.json"
        assert json.loads(feedback.read_text()) == expected[STUDENTS.index(student)].points
    # Two one-thread workers on this machine share its cores.
    share = str(max(1, dask.system.CPU_COUNT // 2))
    for student in STUDENTS:
        assert set(attempts(tmp_path / "cluster" / student).values()) == {share}


def test_embedded_local_cluster_grades_like_serial(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADING_SCHEDULER", raising=False)
    monkeypatch.setenv("JOBS", "2")
    expected = grade_serially(tmp_path)

    folders = make_submissions(tmp_path / "local")
    settings = StandInSettings(tmp_path / "local-feedback")
    results = list(map_submissions(grade_stand_in, folders, settings, progress=False))

    assert results == expected
    assert len(attempts(tmp_path / "local" / "killer")) == 2
    pids = {pid for folder in folders for pid in attempts(folder)}
    assert os.getpid() not in pids  # graded by the cluster's worker processes, not here


def test_serial_run_gives_each_submission_all_cores(tmp_path):
    before = os.environ.get("OMP_NUM_THREADS")
    grade_serially(tmp_path)
    assert list(attempts(tmp_path / "serial" / "ada").items()) == [
        (os.getpid(), str(dask.system.CPU_COUNT))
    ]
    assert os.environ.get("OMP_NUM_THREADS") == before  # the coordinator's own is restored


def test_default_jobs_fits_cores_and_memory():
    assert default_jobs(1) == dask.system.CPU_COUNT  # memory is no limit: one per core
    assert default_jobs(2**60) == 1  # nothing fits: still grade, one at a time


def test_jobs_default_follows_the_sandbox_memory_cap(tmp_path, monkeypatch):
    """With a per-submission cap larger than the machine, JOBS defaults to one at a time."""
    monkeypatch.delenv("JOBS", raising=False)
    monkeypatch.delenv("GRADING_SCHEDULER", raising=False)

    @dataclasses.dataclass(frozen=True)
    class HugeCap(StandInSettings):
        memory_mb: int = 2**40

    folders = make_submissions(tmp_path / "huge")
    (tmp_path / "huge" / "killer" / "attempt-0").write_text("")
    list(map_submissions(grade_stand_in, folders, HugeCap(tmp_path / "out"), progress=False))
    pids = {pid for folder in folders for pid in attempts(folder) if pid}
    assert pids == {os.getpid()}  # serial: graded in this process, no cluster


def test_thread_env_sizes_every_pool():
    env = thread_env(3)
    assert env["OMP_NUM_THREADS"] == env["TF_NUM_INTRAOP_THREADS"] == "3"
    assert env["TF_NUM_INTEROP_THREADS"] == "3"
    assert thread_env(0)["OMP_NUM_THREADS"] == "1"


def test_bad_jobs_value_is_refused(monkeypatch):
    monkeypatch.setenv("JOBS", "many")
    with pytest.raises(ValueError, match="JOBS"):
        next(map_submissions(grade_stand_in, [], None, progress=False))


# --- Real sandboxed grading through the same localhost cluster -------------------------

ASSIGNMENT = manifest.load().assignments[0].name
REAL_SOURCE = Path(__file__).parents[2] / "grading" / "source" / ASSIGNMENT


def real_course(root: Path) -> tuple[list[Path], object]:
    """A course folder with two quick real submissions: the reference up to its data checks
    (no training: earns only the class and data points) and an unreadable notebook."""
    import nbformat

    from course_grader.pipeline import GradingSettings

    shutil.copytree(REAL_SOURCE, root / "source" / ASSIGNMENT)
    nb = nbformat.read(REAL_SOURCE / f"{ASSIGNMENT}.ipynb", as_version=4)
    last = next(i for i, cell in enumerate(nb.cells) if cell.get("id") == "test_data")
    nb.cells = nb.cells[: last + 1]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    folders = []
    for student, write in [
        ("data-only", lambda path: nbformat.write(nb, path)),
        ("unreadable", lambda path: path.write_text("{ not a notebook")),
    ]:
        folder = root / "submitted" / student
        (folder / ASSIGNMENT).mkdir(parents=True)
        write(folder / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
        folders.append(folder)
    settings = GradingSettings(course_dir=root, fast=True, course_data="sample", cell_timeout=300)
    return folders, settings


def grades(result) -> tuple:
    """Everything in a result but the time it took."""
    checks = [(c.grade_id, c.points, c.max_points, c.message) for c in result.checks]
    return result.student, result.status, result.student_id_typed, checks


@pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="нет bubblewrap (apt-get install bubblewrap)"
)
# Работы проверяются в ядре курса на TensorFlow: на других бэкендах нечего добавить.
@pytest.mark.backends("tensorflow")
def test_real_sandboxed_grading_on_the_localhost_cluster_matches_serial(
    tmp_path, localhost_cluster
):
    from course_grader.pipeline import grade_submission

    folders, settings = real_course(tmp_path / "course")
    serial = list(map_submissions(grade_submission, folders, settings, jobs=1, progress=False))
    feedback = {f.name: settings.feedback(f.name) / f"{ASSIGNMENT}.html" for f in folders}
    for path in feedback.values():
        path.unlink()

    cluster = list(
        map_submissions(
            grade_submission, folders, settings, scheduler=localhost_cluster, progress=False
        )
    )

    assert [grades(r) for r in cluster] == [grades(r) for r in serial]
    data_only, unreadable = cluster
    assert unreadable.status == "unreadable" and unreadable.score == 0
    earned = {c.grade_id for c in data_only.checks if c.points > 0}
    assert data_only.status == "graded" and earned == {"test_classes", "test_data"}
    assert all(path.is_file() for path in feedback.values())  # written again by the workers
