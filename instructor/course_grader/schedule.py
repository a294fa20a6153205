"""Проверка многих работ сразу: параллельно на одной машине или на кластере Dask.

Единица работы — одна работа студента, которую ``grade_submission`` проверяет в своей
песочнице и пишет только в свою папку. Координатор (единственный, кто пишет в журнал оценок
и ``grades.csv``) вызывает ``map_submissions(fn, items, settings)`` и получает результаты
по одному, в порядке ``items`` — тем же, что и при проверке по очереди:

* ``JOBS=1`` — по очереди, в этом же процессе, без Dask;
* ``JOBS=N`` (по умолчанию — по ядрам и свободной памяти машины, см. ``default_jobs``) —
  встроенный кластер Dask (``LocalCluster``): N процессов по одному потоку;
* ``GRADING_SCHEDULER=tcp://host:8786`` — те же задачи на уже запущенный кластер Dask
  (на Slurm/PBS через dask-jobqueue, в Kubernetes: см. grading/README.md).

Если рабочий процесс Dask умирает посреди проверки, планировщик отдаёт эту работу другому
процессу (до ``distributed.scheduler.allowed-failures`` раз, по умолчанию 3). Результат
каждой работы приходит координатору ровно один раз, так что ни потерянных, ни двойных строк
в журнале не бывает; повторная проверка лишь перезаписывает свою папку.

Каждой проверке достаётся своя доля ядер: переменные ``OMP_NUM_THREADS``,
``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS`` (``thread_env``) ставятся в процессе,
который её выполняет, и песочница передаёт их ядру студента — иначе пулы потоков
TensorFlow всех параллельных проверок делят одни и те же ядра.
"""

from __future__ import annotations

import collections
import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import dask.system
import psutil

from course_grader import inert
from course_grader.sandbox import THREAD_VARIABLES

__all__ = ["default_jobs", "map_submissions", "thread_env", "LostSubmissionsError"]

T = TypeVar("T")
R = TypeVar("R")

#: Память на одну проверку, если в настройках нет своего предела (байты).
DEFAULT_SUBMISSION_MEMORY = 4 * 2**30


_LOST = object()  # the place of a lost submission among the results in order


class LostSubmissionsError(RuntimeError):
    """Работы, на которых раз за разом умирали рабочие процессы Dask (не оценены)."""


def default_jobs(submission_memory: int | None = None) -> int:
    """Сколько работ проверять одновременно на этой машине.

    Не больше ядер (с учётом ограничений cgroup) и не больше, чем помещается в свободную
    память, если каждой проверке дать ``submission_memory`` байт (её предел в песочнице).
    """
    memory = submission_memory or DEFAULT_SUBMISSION_MEMORY
    fits = psutil.virtual_memory().available // memory
    return max(1, min(dask.system.CPU_COUNT, fits))


def thread_env(threads: int) -> dict[str, str]:
    """Переменные окружения, которые ограничивают пулы потоков одной проверки ``threads``."""
    return {name: str(max(1, threads)) for name in THREAD_VARIABLES}


def _submission_memory(settings: Any) -> int | None:
    """Предел памяти одной проверки из настроек (``settings.memory_mb``), байты, если он есть."""
    memory_mb = getattr(settings, "memory_mb", None)
    return memory_mb * 2**20 if memory_mb else None


def _jobs_from_env() -> int | None:
    value = os.environ.get("JOBS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"JOBS={value!r}: нужно целое число не меньше 1 (или пусто — по машине)")
    return int(value)


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    """Ставит переменные окружения на время блока и возвращает прежние."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _grade_on_worker(item, fn, settings, threads_by_host):
    """Выполняется в рабочем процессе Dask: одна проверка со своей долей ядер этой машины."""
    from distributed import get_worker
    from distributed.comm import get_address_host

    worker = get_worker()
    threads = threads_by_host.get(get_address_host(worker.address))
    if threads is None:  # a worker that joined later: assume it is alone on its machine
        threads = max(1, dask.system.CPU_COUNT // worker.state.nthreads)
    # Each worker thread grades one submission at a time with the same value: no race.
    os.environ.update(thread_env(threads))
    return fn(item, settings)


def _worker_slots(dask_worker) -> tuple[str, int, int]:
    """Машина рабочего процесса, его потоки и ядра этой машины (``client.run`` на нём)."""
    from distributed.comm import get_address_host

    return get_address_host(dask_worker.address), dask_worker.state.nthreads, dask.system.CPU_COUNT


def _threads_by_host(client) -> dict[str, int]:
    """Ядра каждой машины кластера, поделённые на все потоки Dask на ней."""
    slots, cores = collections.Counter(), {}
    for host, nthreads, cpu_count in client.run(_worker_slots).values():
        slots[host] += nthreads
        cores[host] = cpu_count
    return {host: max(1, cores[host] // slots[host]) for host in slots}


@contextlib.contextmanager
def _client(scheduler: str | None, jobs: int):
    """Клиент Dask: к кластеру по адресу ``scheduler`` или к встроенному из ``jobs`` процессов."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            client.wait_for_workers(1)  # a batch cluster may still be starting its jobs
            yield client
        return
    # One thread per process: each grades one submission at a time, and the sandbox
    # (not Dask) limits its memory, so the nanny gets no memory limit of its own.
    with (
        LocalCluster(
            n_workers=jobs,
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=":0",  # no fixed port to collide with (a dashboard needs bokeh)
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _progress(total: int, enabled: bool):
    """Полоса «проверено k из n» с оценкой оставшегося времени (tqdm, в stderr)."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc="Проверено",
        bar_format="{desc} {n_fmt}/{total_fmt} |{bar}| прошло {elapsed}, осталось ~{remaining}",
        disable=not enabled,
        file=sys.stderr,
    )


def map_submissions(
    fn: Callable[[T, Any], R],
    items: Iterable[T],
    settings: Any = None,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> Iterator[R]:
    """Выдаёт ``fn(item, settings)`` для каждого ``item`` в порядке ``items``.

    Аргументы:
        fn: проверка одной работы; должна импортироваться по имени на рабочих машинах
            (функция модуля пакета, например ``grade_submission``), а её результат —
            сериализоваться pickle.
        items: работы (например, папки ``submitted/<студент>``).
        settings: настройки проверки, передаются в ``fn`` как есть.
        jobs: сколько проверок одновременно; по умолчанию ``$JOBS``, а без неё
            ``default_jobs`` (по ядрам и памяти). 1 — по очереди в этом процессе.
        scheduler: адрес планировщика Dask (``tcp://host:8786``); по умолчанию
            ``$GRADING_SCHEDULER``, а без неё — встроенный ``LocalCluster``.
        progress: полоса «проверено k из n» с оценкой оставшегося времени (в stderr).

    Исключение из ``fn`` прерывает проверку (это сбой проверяющей системы, а не работы
    студента). Работы, на которых рабочие процессы умирали слишком часто, не теряются
    молча: после всех остальных результатов поднимается ``LostSubmissionsError``.
    """
    items = list(items)
    if scheduler is None:
        scheduler = os.environ.get("GRADING_SCHEDULER", "").strip() or None
    if jobs is None:
        jobs = _jobs_from_env() or default_jobs(_submission_memory(settings))
    with _progress(len(items), progress) as bar:
        if scheduler is None and (jobs == 1 or len(items) <= 1):
            with _environment(thread_env(dask.system.CPU_COUNT)):
                for item in items:
                    result = fn(item, settings)
                    bar.update()
                    yield result
            return
        yield from _map_on_dask(fn, items, settings, scheduler, min(jobs, len(items)), bar)


def _map_on_dask(fn, items, settings, scheduler, jobs, bar):
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    with _client(scheduler, jobs) as client:
        futures = client.map(
            _grade_on_worker,
            items,
            fn=fn,
            settings=settings,
            threads_by_host=_threads_by_host(client),
            pure=False,
        )
        index = {future.key: i for i, future in enumerate(futures)}
        ready, lost, next_to_yield = {}, [], 0
        for future in as_completed(futures):
            i = index[future.key]
            try:
                ready[i] = future.result()
            except KilledWorker:
                lost.append(items[i])
                ready[i] = _LOST
            bar.update()
            while next_to_yield in ready:
                result = ready.pop(next_to_yield)
                next_to_yield += 1
                if result is not _LOST:
                    yield result
    if lost:
        names = ", ".join(inert.terminal(item) for item in lost)
        raise LostSubmissionsError(
            f"Не проверены работы, на которых рабочие процессы Dask умирали раз за разом: "
            f"{names}. Обычно это нехватка памяти вне песочницы; проверьте их по одной "
            f"(JOBS=1) и посмотрите журнал рабочих процессов."
        )
