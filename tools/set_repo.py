"""Меняет адрес репозитория курса во всех файлах: ``make set-repo URL=https://github.com/<owner>/<name>``.

Адрес хранится в одном месте — ``[project.urls] Repository`` в ``pyproject.toml``; значки
«Open in Colab», ячейки установки (``pip install git+…``) и шаблон ячейки настройки
ссылаются на него, и тест (tests/test_repo_address.py) следит, чтобы других адресов не было.
Скрипт заменяет только сам адрес: в ноутбуках — в тексте ячеек (выводы, id и метаданные
не трогает), в остальных файлах — в тексте. Меняются только файлы репозитория (под git),
файлы пользователя не трогаются.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
URL_RE = re.compile(r"https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?")
# Где в тексте встречается «владелец/имя» репозитория: GitHub, Colab, сырые файлы.
HOSTS = r"(github\.com/|colab\.research\.google\.com/github/|raw\.githubusercontent\.com/)"


def current_url(pyproject: Path = PYPROJECT) -> str:
    """Адрес из строки ``Repository = "…"`` секции ``[project.urls]``."""
    match = re.search(
        r'^\[project\.urls\][^\[]*?^Repository\s*=\s*"([^"]+)"',
        pyproject.read_text(encoding="utf-8"),
        re.M | re.S,
    )
    if not match:
        raise SystemExit(f'в {pyproject} нет [project.urls] Repository = "…"')
    return match.group(1)


def owner_name(url: str) -> str:
    """``https://github.com/<owner>/<name>`` -> ``<owner>/<name>``; иначе понятная ошибка."""
    match = URL_RE.fullmatch(url.strip())
    if not match:
        raise SystemExit(
            f"Адрес {url!r} не похож на репозиторий GitHub. "
            "Укажите его так: make set-repo URL=https://github.com/<владелец>/<имя>"
        )
    return f"{match.group(1)}/{match.group(2)}"


def repo_files(root: Path) -> list[Path]:
    """Файлы репозитория: под git — отслеживаемые git, иначе все, кроме окружений и build/."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
        ).stdout
        return [root / name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", "build", "__pycache__"}
        return [
            p
            for p in root.rglob("*")
            if p.is_file() and not any(part in skip or part.startswith(".venv") for part in p.parts)
        ]


def _write(path: Path, text: str) -> None:
    """Записать через временный файл: прерванная запись не портит файл."""
    tmp = path.with_name(path.name + ".set-repo.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def rewrite(path: Path, old: str, new: str) -> int:
    """Заменить ``old`` (владелец/имя) на ``new`` в файле; вернуть число замен."""
    pattern = re.compile(HOSTS + re.escape(old) + r"(?![A-Za-z0-9_.-])")
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError):
        return 0  # двоичные и удалённые файлы
    if not pattern.search(text):
        return 0
    if path.suffix != ".ipynb":
        text, count = pattern.subn(lambda m: m.group(1) + new, text)
        _write(path, text)
        return count
    notebook = json.loads(text)
    count = 0
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        source, n = pattern.subn(lambda m: m.group(1) + new, source)
        if n:
            cell["source"] = source.splitlines(keepends=True)
            count += n
    _write(path, json.dumps(notebook, ensure_ascii=False, indent=1) + "\n")
    return count


def set_repo(url: str, root: Path = ROOT) -> dict[str, int]:
    """Заменить адрес репозитория во всех файлах; вернуть {файл: число замен}."""
    new = owner_name(url)
    old = owner_name(current_url(root / "pyproject.toml"))
    changed = {}
    for path in repo_files(root):
        count = rewrite(path, old, new) if old != new else 0
        if count:
            changed[path.relative_to(root).as_posix()] = count
    return changed


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("Использование: make set-repo URL=https://github.com/<владелец>/<имя>")
    for name, count in set_repo(sys.argv[1]).items():
        print(f"{name}: {count}")
