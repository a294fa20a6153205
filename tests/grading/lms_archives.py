"""Архивы «как из LMS» для тестов: раскладки Moodle и Canvas, построенные по их документации.

Moodle («Скачать все ответы», с папками): ``Полное Имя_<participant id>_assignsubmission_file_/<файл>``.
Canvas («Download Submissions»): ``<фамилияимя>_[LATE_]<user id>_<attachment id>_<файл>``.
Время файла в архиве — время сдачи (ZIP хранит его без часового пояса).
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass
class Work:
    name: str  #: полное имя в LMS (Moodle) или «фамилияимя» (Canvas)
    lms_id: str  #: participant id (Moodle) или user id (Canvas)
    data: bytes
    submitted: datetime  #: местное время сервера LMS (так его пишет ZIP)
    file_name: str = "cifar10_vae.ipynb"
    late: bool = False  #: отметка Canvas LATE
    attachment_id: str = "900"


def _add(archive: zipfile.ZipFile, name: str, data: bytes, when: datetime) -> None:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.flag_bits |= 0x800  # имена в UTF-8
    archive.writestr(info, data)


def moodle_zip(path: Path, works: list[Work]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for w in works:
            folder = f"{w.name}_{w.lms_id}_assignsubmission_file_"
            _add(archive, f"{folder}/{w.file_name}", w.data, w.submitted)
    return path


def canvas_zip(path: Path, works: list[Work]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for w in works:
            marker = "_LATE" if w.late else ""
            name = f"{w.name}{marker}_{w.lms_id}_{w.attachment_id}_{w.file_name}"
            _add(archive, name, w.data, w.submitted)
    return path


def roster(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", "name", "email", "lms_id"])
        writer.writerows(rows)
    return path
