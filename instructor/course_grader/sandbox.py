"""Песочница для чужого кода: bubblewrap, пределы памяти и числа процессов.

Что видит код студента (см. grading/README.md, «модель угроз»):

* всю файловую систему — только для чтения (``--ro-bind / /``): код курса, окружение,
  наборы данных;
* вместо папки курса проверки (база оценок, сданные работы, ноутбук преподавателя,
  ``release/``, ``autograded/``, ``feedback/``), домашней папки проверяющего и ``/tmp`` —
  пустые временные папки (tmpfs); свою папку работы — для записи;
* ни одной сети (``--unshare-all``: свои пространства имён сети, процессов, IPC, ...);
* свои пространство имён процессов и сеанс (``--new-session``): когда песочница
  закрывается, все её процессы, даже отсоединённые, завершаются ядром;
* пределы памяти и числа процессов — группа cgroup (v1 или v2) на каждую работу; где
  групп нет, — ``setrlimit`` (слабее, о чём пишется предупреждение).

Без bubblewrap проверка не запускается (:class:`SandboxUnavailable`). Отключить песочницу
можно только явно, ``GRADING_SANDBOX=none``: тогда код студента выполняется с правами
проверяющего — годится лишь для своих, заведомо честных ноутбуков.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from course_utils.config import REPO_ROOT

#: Переменные, которыми библиотеки берут размер своих пулов потоков (их ставит планировщик).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)

#: Где внутри песочницы лежит папка работы (единственная, куда можно писать, кроме /tmp).
WORK_INSIDE = "/tmp/submission"

_INSTALL_HINT = (
    "Нет программы bubblewrap (bwrap), в которой проверяются работы студентов. "
    "Установите её: `sudo apt-get install bubblewrap` (Debian/Ubuntu) или "
    "`sudo dnf install bubblewrap` (Fedora). Только для своих, заведомо честных ноутбуков "
    "песочницу можно отключить: GRADING_SANDBOX=none (код выполнится с вашими правами). / "
    "bubblewrap (bwrap) is missing: install it (apt-get install bubblewrap) or, for trusted "
    "notebooks only, set GRADING_SANDBOX=none."
)


class SandboxUnavailable(RuntimeError):
    """Песочницу нельзя создать: проверка не должна начинаться."""


@dataclass
class SandboxRun:
    """Чем закончился запуск в песочнице."""

    returncode: int | None
    timed_out: bool
    oom_killed: bool
    output: str
    limits: str
    #: Работа заняла на диске больше предела (папка работы), и её остановили.
    disk_exceeded: bool = False


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(_INSTALL_HINT)
    return path


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def bwrap_command(
    argv: list[str],
    *,
    work_dir: Path,
    hidden: list[Path],
    readable: list[Path],
    disk_mb: int = 2048,
) -> list[str]:
    """Командная строка bubblewrap для ``argv``.

    ``hidden`` — папки, вместо которых код видит пустую tmpfs; ``readable`` — папки,
    нужные для работы (код курса, окружение, данные): если они оказались внутри скрытых,
    они возвращаются только для чтения.
    """
    masks = [Path("/tmp"), *hidden]
    # Каждая tmpfs — не больше предела диска (её страницы к тому же считаются в памяти работы).
    tmpfs = ["--size", str(disk_mb * 1024 * 1024), "--tmpfs"]
    cmd = [
        bwrap_path(),
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        *tmpfs,
        "/dev/shm",
    ]
    # Сначала маски, потом нужные папки поверх них, потом снова маски для того, что
    # лежит внутри нужных (например, grading/ внутри репозитория), и папка работы.
    for path in masks:
        cmd += [*tmpfs, str(path)]
    for path in readable:
        if path.exists() and any(_under(path, m) for m in masks):
            cmd += ["--ro-bind", str(path), str(path)]
    for path in hidden:
        if any(_under(path, r) and path != r for r in readable):
            cmd += [*tmpfs, str(path)]
    cmd += [
        "--bind",
        str(work_dir),
        WORK_INSIDE,
        "--chdir",
        WORK_INSIDE,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--",
        *argv,
    ]
    return cmd


class _Cgroups:
    """Группы cgroup с пределами памяти и числа процессов для одного запуска."""

    def __init__(self, memory_mb: int, max_pids: int):
        self.memory = memory_mb * 1024 * 1024
        self.max_pids = max_pids
        self.dirs: list[Path] = []
        self.kind = ""

    def create(self) -> bool:
        name = f"vae-grading-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        root = Path("/sys/fs/cgroup")
        v1_mem, v1_pids = root / "memory", root / "pids"
        try:
            if (v1_mem / "memory.limit_in_bytes").exists() and (v1_pids / "cgroup.procs").exists():
                mem, pids = v1_mem / name, v1_pids / name
                mem.mkdir()
                self.dirs.append(mem)
                pids.mkdir()
                self.dirs.append(pids)
                (mem / "memory.limit_in_bytes").write_text(str(self.memory))
                swap = mem / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    swap.write_text(str(self.memory))
                (pids / "pids.max").write_text(str(self.max_pids))
                self.kind = "cgroup v1"
                return True
            if (root / "cgroup.controllers").exists():
                enabled = (root / "cgroup.subtree_control").read_text().split()
                if "memory" in enabled and "pids" in enabled:
                    group = root / name
                    group.mkdir()
                    self.dirs.append(group)
                    (group / "memory.max").write_text(str(self.memory))
                    (group / "memory.swap.max").write_text("0")
                    (group / "pids.max").write_text(str(self.max_pids))
                    self.kind = "cgroup v2"
                    return True
        except OSError:
            self.remove()
        return False

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def oom_killed(self) -> bool:
        """Ядро убивало процессы группы из-за предела памяти (счётчик ``oom_kill``)."""
        for d in self.dirs:
            for name in ("memory.oom_control", "memory.events"):
                with contextlib.suppress(OSError, ValueError):
                    for line in (d / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill" and int(value) > 0:
                            return True
        return False

    def kill_all(self) -> None:
        for _ in range(100):
            pids = set()
            for d in self.dirs:
                with contextlib.suppress(OSError):
                    pids.update(int(p) for p in (d / "cgroup.procs").read_text().split())
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)

    def remove(self) -> None:
        self.kill_all()
        for d in reversed(self.dirs):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)
        self.dirs = []


def sandbox_env(extra: dict[str, str]) -> dict[str, str]:
    """Окружение кода студента: только нужное, без переменных проверяющего (токенов и т. п.)."""
    env = {
        "PATH": os.pathsep.join(
            [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "HOME": "/tmp/home",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "COURSE_CACHE": "/tmp/cache",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter-runtime",
        "IPYTHONDIR": "/tmp/ipython",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "KERAS_HOME": "/tmp/keras",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    # Размеры пулов потоков (их ставит планировщик для каждой проверки). Бэкенд Keras —
    # не отсюда, а из настроек задания (``extra``): окружение проверяющего его не решает.
    passed = ("TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES", *THREAD_VARIABLES)
    for key in passed:
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra)
    return env


def readable_paths(course_data: str) -> list[Path]:
    """Папки, которые код студента должен видеть (только для чтения)."""
    paths = [
        REPO_ROOT,
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(sys.executable).resolve().parent.parent,
    ]
    if course_data not in ("", "sample", "download"):
        paths.append(Path(course_data).expanduser().resolve())
    return [p.resolve() for p in paths]


def run_sandboxed(
    argv: list[str],
    *,
    work_dir: Path,
    hidden: list[Path],
    env: dict[str, str],
    course_data: str,
    memory_mb: int,
    max_pids: int,
    timeout: float,
    disk_mb: int = 2048,
    use_sandbox: bool = True,
) -> SandboxRun:
    """Выполняет ``argv`` в песочнице с пределами и возвращает, чем это закончилось.

    Диск: каждый файл — не больше ``disk_mb`` (``RLIMIT_FSIZE``), каждая tmpfs песочницы —
    тоже, а папка работы (единственная на диске проверяющего) — не больше ``disk_mb`` всего:
    её размер измеряется каждые полсекунды, и работа, превысившая предел, останавливается.
    После выхода (или по ``timeout``) все процессы запуска завершаются.
    """
    if use_sandbox:
        inner = bwrap_command(
            argv,
            work_dir=work_dir,
            hidden=hidden,
            readable=readable_paths(course_data),
            disk_mb=disk_mb,
        )
    else:
        inner = list(argv)
    groups = _Cgroups(memory_mb, max_pids)
    rlimits = None
    if groups.create():
        # Процесс сам входит в группы и только потом запускает песочницу: всё, что
        # появится внутри, уже ограничено.
        cmd = ["sh", "-c", 'for f in $CG_PROCS; do echo $$ > "$f"; done; exec "$@"', "sh", *inner]
        env = {**env, "CG_PROCS": " ".join(groups.procs_files())}
        limits = f"{groups.kind}: память {memory_mb} МБ, процессов {max_pids}"
    else:
        cmd = inner
        rlimits = memory_mb * 1024 * 1024
        limits = f"setrlimit: адресное пространство {memory_mb} МБ (групп cgroup нет)"
        warnings.warn(
            "Группы cgroup недоступны: память ограничена только setrlimit(RLIMIT_AS), "
            "число процессов не ограничено.",
            stacklevel=2,
        )

    disk = disk_mb * 1024 * 1024

    def _limit():  # выполняется в дочернем процессе до exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (disk, disk))
        if rlimits is not None:
            resource.setrlimit(resource.RLIMIT_AS, (rlimits, rlimits))

    log = work_dir.parent / "sandbox.log"
    timed_out = disk_exceeded = False
    try:
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                cmd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_limit,
                cwd=work_dir,
            )
            deadline = time.monotonic() + timeout
            while proc.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.5)
                timed_out = time.monotonic() > deadline
                disk_exceeded = disk_usage(work_dir) + os.fstat(out.fileno()).st_size > disk
                if proc.returncode is None and (timed_out or disk_exceeded):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    groups.kill_all()
                    proc.wait()
        oom = groups.oom_killed()
    finally:
        groups.remove()
    return SandboxRun(proc.returncode, timed_out, oom, _tail(log), limits, disk_exceeded)


def disk_usage(folder: Path) -> int:
    """Сколько байт занимают файлы в папке (без перехода по ссылкам)."""
    total, stack = 0, [str(folder)]
    while stack:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
    return total


def _tail(path: Path, size: int = 20_000) -> str:
    """Конец журнала песочницы (его пишет работа: он может быть большим)."""
    with contextlib.suppress(OSError), open(path, "rb") as f:
        f.seek(max(0, os.fstat(f.fileno()).st_size - size))
        return f.read(size).decode("utf-8", "replace")
    return ""


def check_sandbox(work_dir: Path, hidden: list[Path], course_data: str) -> None:
    """Проверяет до проверки работ, что песочница запускается и изолирует (иначе — исключение)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    readable = readable_paths(course_data)
    # Внутри скрытой папки видно только то, что возвращено для работы (путь к окружению).
    probe = (
        "import json, socket, sys, pathlib\n"
        "hidden, readable = json.loads(sys.argv[1])\n"
        "allowed = {str(a) for r in readable for a in [pathlib.Path(r), *pathlib.Path(r).parents]}\n"
        "for h in map(pathlib.Path, hidden):\n"
        "    seen = [str(e) for e in h.iterdir() if str(e) not in allowed] if h.is_dir() else []\n"
        "    assert not seen, f'видно скрытое: {seen[:3]}'\n"
        "s = socket.socket()\n"
        "s.settimeout(2)\n"
        "try:\n"
        "    s.connect(('1.1.1.1', 53))\n"
        "    raise SystemExit('есть сеть')\n"
        "except OSError:\n"
        "    pass\n"
        "pathlib.Path('ok').write_text('ok')\n"
    )
    run = run_sandboxed(
        [
            sys.executable,
            "-c",
            probe,
            json.dumps([list(map(str, hidden)), list(map(str, readable))]),
        ],
        work_dir=work_dir,
        hidden=hidden,
        env=sandbox_env({}),
        course_data=course_data,
        memory_mb=512,
        max_pids=64,
        timeout=120,
    )
    if run.returncode != 0 or not (work_dir / "ok").exists():
        raise SandboxUnavailable(
            "Песочница bubblewrap не запускается или не изолирует работу "
            f"(код выхода {run.returncode}):\n{run.output[-3000:]}\n"
            "Нужны пространства имён пользователя (например, sysctl "
            "kernel.unprivileged_userns_clone=1) или запуск от root."
        )
