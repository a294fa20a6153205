"""Один адрес репозитория курса: значки Colab и ячейки установки ссылаются на тот, что в
``pyproject.toml``, а ``make set-repo`` (tools/set_repo.py) меняет их все разом."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.config import REPO_ROOT

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow

sys.path.insert(0, str(REPO_ROOT / "tools"))
import set_repo  # noqa: E402

# Чужие проекты, на которые курс ссылается как на источники (не адреса курса).
CITED = {
    "zalandoresearch/fashion-mnist": "источник Fashion-MNIST, data/README.md",
    "computationalmodelling/nbval": "nbval, README.md",
    "blingenf/copydetect": "copydetect (проверка на списывание), grading/README.md",
}
ADDRESS = re.compile(set_repo.HOSTS + r"([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)")
COURSE = set_repo.owner_name(set_repo.current_url())
FORK = "someone/my-vae-fork"  # адрес форка для проверки set-repo
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _addresses(root: Path) -> dict[str, set[str]]:
    """{файл: названные в нём «владелец/имя»} по всем файлам репозитория."""
    found = {}
    for path in set_repo.repo_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        names = {m.group(2).removesuffix(".git") for m in ADDRESS.finditer(text)}
        if names:
            found[path.relative_to(root).as_posix()] = names
    return found


def _sources(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells)


def test_no_other_repository_address():
    found = _addresses(REPO_ROOT)
    assert any(COURSE in names for names in found.values()), "адрес курса нигде не назван"
    other = {f: names - {COURSE} - set(CITED) for f, names in found.items()}
    assert not {f: n for f, n in other.items() if n}, (
        f"адреса, отличные от [project.urls] Repository ({COURSE}): {other}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_badge_and_install_cell_use_the_address(path):
    text = _sources(path)
    badge = f"https://colab.research.google.com/github/{COURSE}/blob/main/notebooks/{path.name}"
    assert badge in text, f"{path.name}: нет значка Colab, ведущего на сам ноутбук ({badge})"
    installs = re.findall(r"pip install[^\n]*git\+(https://[^\s\"']+)", text)
    assert installs == [f"https://github.com/{COURSE}"], (
        f"{path.name}: ячейка установки должна ставить пакет из https://github.com/{COURSE}, "
        f"а ставит из {installs}"
    )


def test_set_repo_rewrites_every_address_and_nothing_else(tmp_path):
    root = tmp_path / "course"
    tracked = set_repo.repo_files(REPO_ROOT)
    for path in tracked:
        if path.is_file():
            target = root / path.relative_to(REPO_ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    _git("init", "-q", cwd=root)
    _git("add", "-A", cwd=root)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    # Файл пользователя (не под git) со старым адресом: скрипт его не трогает.
    user_file = root / "notebooks" / "my_notes.md"
    note = f"моя заметка: https://github.com/{COURSE}\n"
    user_file.write_text(note, encoding="utf-8")

    changed = set_repo.set_repo(f"https://github.com/{FORK}", root)

    assert changed, "set-repo ничего не заменил"
    assert set_repo.current_url(root / "pyproject.toml") == f"https://github.com/{FORK}"
    left = [f for f, names in _addresses(root).items() if COURSE in names]
    assert not left, f"старый адрес остался в {left}"
    assert user_file.read_text(encoding="utf-8") == note
    for path in sorted(root.glob("notebooks/*.ipynb")):
        old = json.loads(before[path])
        new = json.loads(path.read_text(encoding="utf-8"))
        assert [c.get("id") for c in new["cells"]] == [c.get("id") for c in old["cells"]]
        assert [c.get("outputs") for c in new["cells"]] == [c.get("outputs") for c in old["cells"]]
        assert new["metadata"] == old["metadata"]
        assert FORK in _sources(path)

    # Обратно на исходный адрес: все файлы побайтно как были.
    set_repo.set_repo(f"https://github.com/{COURSE}", root)
    assert {p: p.read_bytes() for p in before} == before


def test_set_repo_rejects_a_non_github_address():
    with pytest.raises(SystemExit, match="make set-repo URL="):
        set_repo.owner_name("gitlab.com/someone/fork")
