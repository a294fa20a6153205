"""Таблица времени в README построена из docs/run_times.json (make times), а не руками."""

import json
import subprocess
import sys

import nbformat
import pytest

from course_utils.config import REPO_ROOT

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow

sys.path.insert(0, str(REPO_ROOT / "tools"))

import readme_times  # noqa: E402
import run_notebooks  # noqa: E402


def test_readme_table_is_the_rendering_of_the_records():
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "readme_times.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_course_notebook_has_both_profiles_measured():
    records = json.loads(readme_times.RECORDS.read_text(encoding="utf-8"))
    measured = {(r["notebook"], r["profile"]) for r in records if r["data"] == "sample"}
    for name in readme_times.course_notebooks():
        assert {(name, "fast"), (name, "full")} <= measured, name


def test_table_cells_show_time_date_and_load():
    record = {
        "notebook": "02_vae",
        "profile": "full",
        "data": "sample",
        "seconds": 135.4,
        "load_before": [1.23, 1.0, 0.9],
        "load_after": [2.04, 1.5, 1.0],
        "cpus": 2,
        "date": "2026-12-07 07:10 UTC",
    }
    real = {**record, "data": "local", "seconds": 1350.0}
    text = readme_times.table([record, real], ["02_vae", "03_faces"])
    assert (
        "| `02_vae` | не замерено | 2 мин 15 с (2026-12-07, загрузка 1,2 → 2,0 при 2 ядрах) |"
        in text
    )
    assert "| `03_faces` | не замерено | не замерено |" in text  # запись на других данных не в счёт
    assert text.endswith("| всего | не все замерены | не все замерены |")
    fast = {**record, "profile": "fast", "seconds": 20.0}
    assert readme_times.table([record, fast], ["02_vae"]).endswith("| всего | 20 с | 2 мин 15 с |")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(9.6, "10 с"), (99, "99 с"), (135, "2 мин 15 с"), (180, "3 мин"), (3421, "57 мин")]
    + [(2747.4, "46 мин")],
)
def test_duration(seconds, text):
    assert readme_times.duration(seconds) == text


def test_render_replaces_only_the_marked_sections():
    rt = readme_times
    readme = (
        f"до\n{rt.START}\nстарое\n{rt.END}\nмежду\n{rt.TEST_START}\nстарое\n{rt.TEST_END}\nпосле\n"
    )
    out = rt.render(readme, [], ["01"], [])
    assert out.startswith("до\n") and out.endswith("\nпосле\n") and "старое" not in out
    assert "\nмежду\n" in out and "`make test` ещё не замерен" in out
    with pytest.raises(SystemExit, match="Нет меток"):
        rt.render(f"{rt.START}\n{rt.END}\nбез второй пары меток", [], ["01"], [])


def test_test_paragraph_shows_the_latest_run_its_cpu_and_each_suite():
    older = {"seconds": 9999.0, "commit": "old", "suites": []}
    latest = {
        "command": "bash .ci/run",
        "commit": "abc1234",
        "date": "2026-12-07 10:40 UTC",
        "seconds": 1500.0,
        "cpu_seconds": 2100.0,
        "load_before": [1.0, 1.0, 1.0],
        "load_after": [2.5, 2.0, 1.5],
        "cpus": 2,
        "suites": [
            {"suite": "браузер", "result": "9 passed", "seconds": 130.0},
            {"suite": "ноутбуки (nbval)", "result": "119 passed", "seconds": 95.0},
        ],
    }
    text = readme_times.test_paragraph([older, latest])
    assert "**25 мин** (2026-12-07, коммит `abc1234`, загрузка 1,0 → 2,5 при 2 ядрах)" in text
    assert "процессор на 35 мин, то есть в среднем 1,4 ядра из 2" in text
    assert text.endswith("браузер — 2 мин 10 с; ноутбуки (nbval) — 95 с.")
    assert "old" not in text
    # Процессор всей машины, если записан, важнее учёта дочерних процессов (он неполон).
    text = readme_times.test_paragraph([{**latest, "busy_seconds": 2880.0}])
    assert "процессор машины был занят 48 мин, то есть в среднем 1,9 ядра из 2" in text
    assert "процессы тестов" not in text


def test_make_run_has_its_own_paragraph_and_never_stands_for_make_test():
    make_test = {
        "command": "bash .ci/run",
        "commit": "abc1234",
        "date": "2026-12-07 10:40 UTC",
        "seconds": 1500.0,
        "load_before": None,
        "cpus": 2,
        "suites": [],
    }
    make_run = {**make_test, "command": "make run", "commit": "def5678", "seconds": 3912.0}
    assert "ещё не замерен" in readme_times.run_paragraph([make_test])
    text = readme_times.run_paragraph([make_test, make_run])
    assert "**65 мин** (2026-12-07, коммит `def5678`, загрузка не записана)" in text
    text = readme_times.run_paragraph([{**make_run, "processor": "AMD EPYC, AVX2 без AVX-512"}])
    assert "загрузка не записана; процессор AMD EPYC, AVX2 без AVX-512)" in text
    # Последняя запись — make run, но абзац о make test говорит о своём прогоне.
    assert "коммит `abc1234`" in readme_times.test_paragraph([make_test, make_run])


def test_both_documents_carry_the_same_tables():
    blocks = []
    for document in readme_times.DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        blocks.append(
            [
                text.split(start, 1)[1].split(end, 1)[0]
                for start, end in (
                    (readme_times.START, readme_times.END),
                    (readme_times.TEST_START, readme_times.TEST_END),
                )
            ]
        )
    assert blocks[0] == blocks[1]


def test_save_record_replaces_the_same_notebook_profile_and_data(tmp_path):
    path = tmp_path / "times.json"
    base = {"notebook": "01", "profile": "fast", "data": "sample", "seconds": 10.0}
    run_notebooks.save_record(path, base)
    run_notebooks.save_record(path, {**base, "profile": "full", "seconds": 70.0})
    run_notebooks.save_record(path, {**base, "seconds": 12.0})
    records = json.loads(path.read_text(encoding="utf-8"))
    assert sorted((r["profile"], r["seconds"]) for r in records) == [("fast", 12.0), ("full", 70.0)]


def test_executed_record_takes_the_time_from_jupyter_stamps(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("1"), nbformat.v4.new_code_cell("2")]
    notebook.cells[0].metadata["execution"] = {
        "iopub.execute_input": "2026-12-07T06:50:10.000000Z",
        "shell.execute_reply": "2026-12-07T06:50:11.000000Z",
    }
    notebook.cells[1].metadata["execution"] = {
        "iopub.execute_input": "2026-12-07T06:50:11.500000Z",
        "shell.execute_reply": "2026-12-07T07:47:30.250000Z",
    }
    path = tmp_path / "03_faces.ipynb"
    nbformat.write(notebook, path)
    record = readme_times.executed_record(path, "full", "sample")
    assert record["notebook"] == "03_faces" and record["seconds"] == 3440.2
    assert record["load_before"] is None and record["date"] == "2026-12-07 06:50 UTC"
    assert "загрузка не записана" in readme_times.cell(record)
