"""``make collect FROM=...``: работы из архива LMS (Moodle, Canvas) или из папки в ``submitted/``.

Раскладка определяется сама (по именам внутри архива):

* **Moodle** («Скачать все ответы»): ``Полное Имя_<participant id>_assignsubmission_file_/<файл>``
  (с папками) или ``Полное Имя_<id>_assignsubmission_file_<файл>`` (без папок);
  ``participant id`` — номер участника в этом задании;
* **Canvas** («Download Submissions»): ``<фамилияимя>_[LATE_]<user id>_<attachment id>_<файл>``;
  ``LATE`` (или ``late``) — отметка Canvas «сдано после срока»;
* **папка**: ``<студент>/<файл>.ipynb`` (``<студент>`` — ``student_id`` из списка группы).

Имена внутри архива — недоверенные: по ним ничего не распаковывается. Каждый файл читается
в память (с пределом размера), а путь, куда он ляжет, строится только из номера в LMS или
``student_id`` списка группы: ``submitted/<студент>/<задание>/<ноутбук>``.

Время сдачи — время файла в архиве (поле UTC «extended timestamp», если оно есть, иначе
время ZIP без часового пояса, прочитанное в поясе срока задания из ``course.toml``); для
папки — время изменения файла. Оно записывается в ``timestamp.txt`` рядом с работой
(как у nbgrader) и в ``collect.json``.

Ни одна сданная версия не теряется: каждая лежит в ``<задание>/versions/<время>_<sha>.ipynb``
(файл создаётся один раз и не перезаписывается). **Считается последняя по времени сдачи
версия** (как в Moodle и Canvas); её копия — ``<задание>/<ноутбук>``, её и проверяет
``make grade``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import struct
import sys
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat

from course_grader import inert, late
from course_utils import manifest
from course_utils.config import REPO_ROOT

#: Предел размера одного файла работы (выполненный ноутбук с рисунками — единицы МБ).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Предел числа файлов в архиве (дальше — отказ: это не выгрузка LMS).
MAX_ENTRIES = 20_000
#: Сведения о сборе работы (LMS, номер, имя, время, версии) — рядом с ноутбуком.
INFO_FILE = "collect.json"
ROSTER_COLUMNS = ("student_id", "name", "email", "lms_id")

_MOODLE = re.compile(
    r"^(?P<name>[^/]+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?:/(?P<file>.+)|(?P<flat>[^/]+))$"
)
_CANVAS = re.compile(
    r"^(?P<name>[^/]+?)_(?:(?P<late>late)_)?(?P<id>\d+)_(?P<attachment>\d+)_(?P<file>[^/]+)$",
    re.IGNORECASE,
)
_FOLDER = re.compile(r"^(?P<student>[^/]+)/(?P<file>[^/]+)$")


class CollectError(Exception):
    """Сбор не начат: что не так и что сделать (сообщение для преподавателя)."""


@dataclass
class Entry:
    """Один файл из архива или папки: имя (недоверенное), содержимое и время."""

    path: str
    data: bytes | None
    modified: datetime | None
    problem: str = ""


@dataclass
class Submission:
    """Работа, разобранная по раскладке LMS (ещё не сопоставленная со списком группы)."""

    entry: Entry
    lms: str
    lms_id: str
    name: str
    file_name: str
    late_marker: bool = False
    attachment_id: str = ""


@dataclass
class Report:
    """Итог сбора: что разложено и что требует внимания (ничего не пропадает молча)."""

    lms: str = ""
    filed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: (что, почему) — каждая строка для преподавателя.
    problems: list[tuple[str, str]] = field(default_factory=list)

    def problem(self, what: str, why: str) -> None:
        self.problems.append((what, why))

    def text(self) -> str:
        lines = [
            f"Раскладка: {self.lms}. Разложено работ: {len(self.filed)}, "
            f"без изменений: {len(self.unchanged)}, требуют внимания: {len(self.problems)}."
        ]
        lines += [f"  + {inert.terminal(s)}" for s in self.filed]
        lines += [
            f"  ! {inert.terminal(what)}: {inert.terminal(why)}" for what, why in self.problems
        ]
        return "\n".join(lines)


# ------------------------------------------------------------------------ чтение источника


def _zip_time(info: zipfile.ZipInfo, zone: timezone) -> datetime | None:
    """Время файла в ZIP: поле 0x5455 (UTC, секунды Unix), иначе время DOS в поясе ``zone``."""
    extra = info.extra
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        body = extra[4 : 4 + size]
        if kind == 0x5455 and len(body) >= 5 and body[0] & 1:
            return datetime.fromtimestamp(struct.unpack("<i", body[1:5])[0], timezone.utc)
        extra = extra[4 + size :]
    try:
        return datetime(*info.date_time, tzinfo=zone)
    except ValueError:
        return None


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Имя в архиве: без флага UTF-8 ZIP хранит cp437; выгрузки LMS пишут UTF-8 и без флага."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unicodedata.normalize("NFC", name)


def _read_zip(path: Path, zone: timezone) -> Iterator[Entry]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CollectError(
            f"{path}: не читается как ZIP ({exc}). Укажите архив, скачанный из LMS целиком, "
            "или папку с работами."
        ) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise CollectError(f"{path}: в архиве {len(infos)} файлов — это не выгрузка LMS.")
        for info in infos:
            if info.is_dir():
                continue
            entry = Entry(_zip_name(info), None, _zip_time(info, zone))
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                entry.problem = "символическая ссылка в архиве — не файл работы"
            elif info.file_size > MAX_FILE_BYTES:
                entry.problem = f"больше {MAX_FILE_BYTES // 2**20} МБ"
            else:
                try:
                    with archive.open(info) as f:
                        entry.data = f.read(MAX_FILE_BYTES + 1)
                except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
                    entry.problem = f"не распаковывается ({type(exc).__name__})"
                else:
                    if len(entry.data) > MAX_FILE_BYTES:
                        entry.data, entry.problem = None, f"больше {MAX_FILE_BYTES // 2**20} МБ"
            yield entry


def _read_folder(root: Path) -> Iterator[Entry]:
    count = 0
    for path in sorted(root.rglob("*")):
        count += 1
        if count > MAX_ENTRIES:
            raise CollectError(f"{root}: больше {MAX_ENTRIES} файлов — это не папка работ.")
        relative = unicodedata.normalize("NFC", path.relative_to(root).as_posix())
        if path.is_symlink():
            yield Entry(relative, None, None, "символическая ссылка — не файл работы")
        elif path.is_file():
            stat = path.stat()
            modified = datetime.fromtimestamp(stat.st_mtime, timezone.utc)
            if stat.st_size > MAX_FILE_BYTES:
                yield Entry(relative, None, modified, f"больше {MAX_FILE_BYTES // 2**20} МБ")
            else:
                yield Entry(relative, path.read_bytes(), modified)


def read_source(source: Path, zone: timezone) -> list[Entry]:
    """Все файлы архива или папки (имена не используются как пути)."""
    source = Path(source)
    if source.is_dir():
        return list(_read_folder(source))
    if source.is_file():
        return list(_read_zip(source, zone))
    raise CollectError(
        f"{source}: нет такого файла или папки. Укажите FROM=<архив .zip из LMS или папка>."
    )


# ------------------------------------------------------------------------ раскладки LMS


def detect_layout(entries: list[Entry]) -> str:
    """``moodle``, ``canvas`` или ``folder`` — по именам файлов (какой раскладке их больше)."""
    paths = [e.path for e in entries]
    moodle = sum(bool(_MOODLE.match(p)) for p in paths)
    canvas = sum(bool(_CANVAS.match(p)) for p in paths)
    if moodle and moodle >= canvas:
        return "moodle"
    if canvas:
        return "canvas"
    return "folder"


def parse(entry: Entry, layout: str) -> Submission | None:
    """Разбор имени файла по раскладке; ``None`` — имя не по раскладке."""
    if layout == "moodle":
        m = _MOODLE.match(entry.path)
        if m:
            file_name = m["file"] or m["flat"]
            if m["plugin"] != "file":
                file_name = f"(ответ {m['plugin']}) {file_name}"
            return Submission(entry, "moodle", m["id"], m["name"], file_name)
    elif layout == "canvas":
        m = _CANVAS.match(entry.path)
        if m:
            return Submission(
                entry,
                "canvas",
                m["id"],
                m["name"],
                m["file"],
                late_marker=bool(m["late"]),
                attachment_id=m["attachment"],
            )
    else:
        m = _FOLDER.match(entry.path)
        if m:
            return Submission(entry, "folder", m["student"], m["student"], m["file"])
    return None


# ------------------------------------------------------------------------ список группы


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str = ""
    email: str = ""
    lms_id: str = ""


def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().replace("ё", "е").split())


def read_roster(path: Path) -> list[Student]:
    """``roster.csv``: ``student_id,name,email,lms_id`` (UTF-8, первая строка — заголовок)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CollectError(f"{path}: не UTF-8. Сохраните список группы в UTF-8.") from exc
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or "student_id" not in rows[0]:
        raise CollectError(
            f"{path}: нужен заголовок {','.join(ROSTER_COLUMNS)} (student_id обязателен)."
        )
    students, seen = [], set()
    for number, row in enumerate(rows, start=2):
        student_id = (row.get("student_id") or "").strip()
        if not student_id or inert.file_component(student_id) != student_id:
            raise CollectError(
                f"{path}, строка {number}: student_id {inert.terminal(student_id)!r} — это имя "
                "папки работы: только буквы, цифры, _ - . и не с точки."
            )
        if student_id in seen:
            raise CollectError(f"{path}, строка {number}: student_id {student_id} повторяется.")
        seen.add(student_id)
        students.append(
            Student(
                student_id,
                (row.get("name") or "").strip(),
                (row.get("email") or "").strip(),
                (row.get("lms_id") or "").strip(),
            )
        )
    return students


def identify(sub: Submission, roster: list[Student] | None) -> tuple[str | None, str]:
    """(папка студента, как сопоставлен) или (None, почему не сопоставлен). Без догадок."""
    if roster is None:
        if sub.lms == "folder":
            folder = inert.file_component(sub.lms_id)
            if folder != sub.lms_id:
                return None, "имя папки студента с недопустимыми символами"
            return folder, "по имени папки"
        return f"{sub.lms}-{sub.lms_id}", f"по номеру {sub.lms} (списка группы нет)"
    if sub.lms == "folder":
        found = [s for s in roster if s.student_id == sub.lms_id]
        how = "по student_id"
    else:
        found = [s for s in roster if s.lms_id and s.lms_id == sub.lms_id]
        how = "по lms_id"
        if not found and sub.lms == "moodle":
            key = _name_key(sub.name)
            found = [s for s in roster if not s.lms_id and _name_key(s.name) == key]
            how = "по полному имени (в списке нет lms_id)"
    if len(found) == 1:
        return found[0].student_id, how
    if len(found) > 1:
        return None, "в списке группы несколько таких студентов: укажите lms_id"
    return None, f"нет в списке группы (номер {sub.lms} {sub.lms_id})"


# ------------------------------------------------------------------------ раскладка в submitted/


def _accepted_name(file_name: str, notebook: str, lms: str) -> bool:
    if file_name == notebook:
        return True
    # Canvas добавляет -1, -2 к имени файла при повторной сдаче.
    stem = Path(notebook).stem
    return lms == "canvas" and re.fullmatch(re.escape(stem) + r"-\d+\.ipynb", file_name) is not None


def _notebook_problem(data: bytes) -> str:
    try:
        nbformat.validate(nbformat.reads(data.decode("utf-8"), as_version=4))
    except Exception as exc:  # noqa: BLE001 — любой негодный файл — это сообщение, не сбой
        return f"ноутбук не читается ({type(exc).__name__})"
    return ""


def _store(folder: Path, notebook: str, sub: Submission, how: str, data: bytes) -> bool:
    """Кладёт версию работы; True — изменилась считающаяся версия. Ничего не перезаписывает."""
    versions = folder / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    info_path = folder / INFO_FILE
    try:
        info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
    except (OSError, ValueError):
        info = {}  # испорченный collect.json: версии в versions/ остаются, запись начнётся заново
    known = info.get("versions", [])
    sha = hashlib.sha256(data).hexdigest()
    if any(v["sha256"] == sha for v in known):
        return False
    moment = sub.entry.modified or datetime.now(timezone.utc)
    current = folder / notebook
    old = current.read_bytes() if current.is_file() else None
    old_sha = hashlib.sha256(old).hexdigest() if old is not None else ""
    if old is not None and not any(v["sha256"] == old_sha for v in known):
        # Работа, положенная вручную до сбора, тоже сохраняется как версия.
        kept = versions / f"manual_{old_sha[:12]}.ipynb"
        if not kept.exists():
            kept.write_bytes(old)
        known.append({"file": kept.name, "sha256": old_sha, "submitted_at": None})
    name = f"{moment.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}_{sha[:12]}.ipynb"
    if not (versions / name).exists():  # имя содержит sha256: тот же файл уже сохранён
        with open(versions / name, "xb") as f:  # "x": никогда не перезаписывает
            f.write(data)
    version = {
        "file": name,
        "sha256": sha,
        "submitted_at": sub.entry.modified.isoformat() if sub.entry.modified else None,
        "collected_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source_entry": sub.entry.path,
        "lms": sub.lms,
        "lms_id": sub.lms_id,
        "lms_name": sub.name,
        "late_marker": sub.late_marker,
        "attachment_id": sub.attachment_id,
        "matched": how,
    }
    known.append(version)

    def order(v):
        when = v.get("submitted_at")
        return datetime.fromisoformat(when) if when else datetime.min.replace(tzinfo=timezone.utc)

    counting = max(known, key=order)  # при равном времени — собранная позже
    changed = counting is version
    if changed:
        tmp = folder / f".{notebook}.collecting"
        tmp.write_bytes(data)
        tmp.replace(current)
        if sub.entry.modified:
            late.write_timestamp(folder, sub.entry.modified)
        else:
            (folder / late.TIMESTAMP_FILE).unlink(missing_ok=True)
    info.update({"versions": known, "counting": counting["file"]})
    info.update({k: counting.get(k, "") for k in ("lms", "lms_id", "lms_name", "attachment_id")})
    info_path.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    return changed


def collect(
    source: Path,
    course_dir: Path = REPO_ROOT / "grading",
    assignment: manifest.Assignment | None = None,
    roster_path: Path | None = None,
) -> Report:
    """Раскладывает работы из ``source`` в ``course_dir/submitted/`` и возвращает итог."""
    assignment = assignment or manifest.load().assignments[0]
    zone = (assignment.deadline.tzinfo if assignment.deadline else None) or timezone.utc
    if not isinstance(zone, timezone):
        zone = timezone(assignment.deadline.utcoffset() or timedelta(0))
    roster_path = roster_path or course_dir / "roster.csv"
    roster = read_roster(roster_path) if roster_path.is_file() else None
    entries = read_source(Path(source), zone)
    report = Report(lms=detect_layout(entries))
    by_student: dict[str, list[tuple[Submission, str]]] = {}
    for entry in entries:
        if entry.problem:
            report.problem(entry.path, entry.problem)
            continue
        sub = parse(entry, report.lms)
        if sub is None:
            report.problem(entry.path, f"имя не по раскладке {report.lms}: не разобрано")
            continue
        if Path(sub.file_name).name.startswith(".") or "__MACOSX" in entry.path:
            report.problem(entry.path, "служебный или скрытый файл — не работа, не взят")
            continue
        student, how = identify(sub, roster)
        if student is None:
            report.problem(entry.path, how)
            continue
        if not sub.file_name.endswith(".ipynb"):
            report.problem(entry.path, f"{student}: не ноутбук (ждём {assignment.notebook})")
        elif not _accepted_name(sub.file_name, assignment.notebook, sub.lms):
            report.problem(
                entry.path,
                f"{student}: файл называется не {assignment.notebook}; переименуйте и "
                "соберите из папки, если это работа по заданию",
            )
        else:
            by_student.setdefault(student, []).append((sub, how))
    for student, found in sorted(by_student.items()):
        if len(found) > 1:
            names = "; ".join(s.entry.path for s, _ in found)
            report.problem(
                student, f"несколько файлов работы ({names}): ни один не взят, оставьте один"
            )
            continue
        ((sub, how),) = found
        problem = _notebook_problem(sub.entry.data)
        if problem:
            report.problem(
                sub.entry.path, f"{student}: {problem}; положен, проверка даст unreadable"
            )
        folder = course_dir / "submitted" / student / assignment.name
        if _store(folder, assignment.notebook, sub, how, sub.entry.data):
            report.filed.append(f"{student} ({how}; {sub.name})")
        else:
            report.unchanged.append(student)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Сбор работ из архива LMS или папки.")
    parser.add_argument("source", type=Path, help="архив .zip из Moodle/Canvas или папка")
    parser.add_argument("--assignment", default=None, help="задание из course.toml")
    parser.add_argument("--course-dir", type=Path, default=REPO_ROOT / "grading")
    parser.add_argument("--roster", type=Path, default=None, help="список группы (roster.csv)")
    args = parser.parse_args(argv)
    course = manifest.load()
    try:
        assignment = (
            course.assignment(args.assignment) if args.assignment else course.assignments[0]
        )
        report = collect(args.source, args.course_dir, assignment, args.roster)
    except (CollectError, KeyError) as exc:
        print(f"Сбор не выполнен: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    (args.course_dir / "collect_report.json").write_text(
        json.dumps(asdict(report), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
