"""Время `make test` записывается из настоящего вывода: итоги pytest каждого набора, `time`."""

import json
import os
import sys

import pytest

from course_utils.config import REPO_ROOT

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow

sys.path.insert(0, str(REPO_ROOT / "tools"))

import time_make_test as test_times  # noqa: E402

#: Сокращённый вывод `time bash .ci/run` (порядок наборов — как их закончил make -j2).
LOG = """\
== пять наборов тестов, по два сразу: вывод каждого — по его окончании
make -j2 --output-sync=target unit-grading unit-core unit-backends nbval test-browser
.venv/bin/python -m pytest -p no:cacheprovider --durations=15 tests --ignore=tests/browser \
--ignore=tests/grading --ignore=tests/test_grading.py
12.00s call     tests/test_wheel.py::test_notebook_runs_alone_from_the_wheel[01]
============ 378 passed, 1 warning in 701.25s (0:11:41) ============
== KERAS_BACKEND=jax: модульные тесты
366 passed, 12 skipped in 332.88s (0:05:32)
== KERAS_BACKEND=torch: модульные тесты
364 passed, 14 skipped, 16 warnings in 299.68s (0:04:59)
.venv/bin/python -m pytest -p no:cacheprovider --durations=15 tests/grading tests/test_grading.py
============ 165 passed, 1 failed in 820.50s (0:13:40) ============
COURSE_FAST=1 COURSE_DATA=sample .venv/bin/python -m pytest -p no:cacheprovider --nbval-lax a.ipynb
======================= 119 passed in 95.10s (0:01:35) ========================
.venv/bin/python -m pytest -p no:cacheprovider --durations=15 tests/browser
=================== 9 passed, 3 skipped in 130.00s (0:02:10) ===================

real	25m3.500s
user	30m8.570s
sys	4m32.201s
"""


def test_each_suite_is_named_by_the_command_or_header_before_its_summary():
    parsed = test_times.parse_output(LOG)
    assert [(s["suite"], s["result"], s["seconds"]) for s in parsed["suites"]] == [
        ("модульные тесты, TensorFlow", "378 passed, 1 warning", 701.25),
        ("модульные тесты, JAX", "366 passed, 12 skipped", 332.88),
        ("модульные тесты, PyTorch", "364 passed, 14 skipped, 16 warnings", 299.68),
        ("проверка заданий (песочница, оценки, семестр)", "165 passed, 1 failed", 820.5),
        ("ноутбуки (nbval)", "119 passed", 95.1),
        ("браузер", "9 passed, 3 skipped", 130.0),
    ]
    assert parsed["times"] == {"real": 1503.5, "user": 1808.57, "sys": 272.201}


def test_the_two_grading_suites_have_their_own_names():
    gallery = ".venv/bin/python -m pytest -p no:cacheprovider tests/grading/test_grading_suite.py"
    rest = (
        ".venv/bin/python -m pytest -p no:cacheprovider tests/grading tests/test_grading.py "
        "--ignore=tests/grading/test_grading_suite.py"
    )
    assert test_times.suite_name(gallery) == "проверка заданий: галерея работ и атаки"
    assert test_times.suite_name(rest) == "проверка заданий: семестр, оценки, LMS"


def test_a_log_with_a_failed_suite_is_not_recorded(tmp_path, monkeypatch):
    log = tmp_path / "ci.log"
    log.write_text(LOG, encoding="utf-8")
    records = tmp_path / "times.json"
    monkeypatch.setattr(test_times, "RECORDS", records)
    assert test_times.main(["--from-log", str(log), "--commit", "abc1234"]) == 1
    assert not records.exists()

    log.write_text(LOG.replace("165 passed, 1 failed", "166 passed"), encoding="utf-8")
    os.utime(log, (1796640000, 1796640000))  # 2026-12-07 10:40 UTC: конец прогона
    assert test_times.main(["--from-log", str(log), "--commit", "abc1234"]) == 0
    (record,) = json.loads(records.read_text(encoding="utf-8"))
    assert record["commit"] == "abc1234" and record["date"] == "2026-12-07 10:40 UTC"
    assert record["seconds"] == 1503.5 and record["cpu_seconds"] == pytest.approx(2080.8, abs=0.1)
    assert record["load_before"] is None and len(record["suites"]) == 6


def test_a_log_without_time_lines_is_refused(tmp_path):
    log = tmp_path / "ci.log"
    log.write_text(LOG.split("\nreal")[0], encoding="utf-8")
    with pytest.raises(SystemExit, match="нет строки `real`"):
        test_times.from_log(log)


def test_running_a_command_measures_it_and_keeps_its_output(tmp_path, monkeypatch, capsys):
    records = tmp_path / "times.json"
    monkeypatch.setattr(test_times, "RECORDS", records)
    # Команда сама тратит 0,3 с процессора (по своим часам процессора, а не по стенным).
    script = (
        "import time\nprint('== браузер'); print('3 passed in 1.50s')\n"
        "while time.process_time() < 0.3: pass"
    )
    assert test_times.main(["--", sys.executable, "-c", script]) == 0
    assert "3 passed in 1.50s" in capsys.readouterr().out  # вывод команды виден как обычно
    (record,) = json.loads(records.read_text(encoding="utf-8"))
    assert record["suites"] == [{"suite": "браузер", "result": "3 passed", "seconds": 1.5}]
    assert record["cpu_seconds"] >= 0.3 and record["seconds"] > 0
    assert record["busy_seconds"] >= 0.3  # вся машина: не меньше, чем потратила команда
    assert len(record["load_before"]) == len(record["load_after"]) == 3

    assert test_times.main(["--", sys.executable, "-c", "raise SystemExit(3)"]) == 3
    assert len(json.loads(records.read_text(encoding="utf-8"))) == 1  # провал не записан


#: Конец вывода `/usr/bin/time -v make run > LOG 2>&1` (итогов pytest в нём нет).
RUN_LOG = """\
Выполнено: notebooks/03_vae_celeba_faces.ipynb за 3650 с
\tCommand being timed: "make run"
\tUser time (seconds): 6012.40
\tSystem time (seconds): 301.60
\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:05:12
\tExit status: 0
"""


def test_a_make_run_log_from_gnu_time_is_recorded_as_make_run(tmp_path, monkeypatch):
    log = tmp_path / "run.log"
    records = tmp_path / "times.json"
    monkeypatch.setattr(test_times, "RECORDS", records)
    log.write_text(RUN_LOG.replace("Exit status: 0", "Exit status: 2"), encoding="utf-8")
    args = ["--from-log", str(log), "--commit", "abc1234", "--command", "make run"]
    assert test_times.main(args) == 1 and not records.exists()  # упавший прогон не пишется
    log.write_text(RUN_LOG, encoding="utf-8")
    assert test_times.main(args) == 0
    (record,) = json.loads(records.read_text(encoding="utf-8"))
    assert record["command"] == "make run" and record["suites"] == []
    assert record["seconds"] == 3912.0 and record["cpu_seconds"] == 6314.0
    # Без --command тот же вывод — не make test: в нём нет итогов pytest.
    with pytest.raises(SystemExit, match="нет итогов pytest"):
        test_times.from_log(log)


def test_processor_line_names_the_model_and_whether_it_has_avx512(tmp_path):
    import machine_facts

    info = tmp_path / "cpuinfo"
    core = "processor\t: {n}\ncpu family\t: 25\nmodel\t\t: {model}\nmodel name\t: AMD EPYC\nflags\t\t: fpu {flags}\n"
    info.write_text(
        "\n".join(core.format(n=n, model=1, flags="avx avx2 fma") for n in range(2)),
        encoding="utf-8",
    )
    assert (
        machine_facts.processor(str(info)) == "AMD EPYC, семейство 25, модель 1, AVX2 без AVX-512"
    )
    info.write_text(core.format(n=0, model=17, flags="avx2 avx512f avx512_bf16"), encoding="utf-8")
    assert machine_facts.processor(str(info)).endswith("модель 17, AVX-512")
    assert machine_facts.processor(str(tmp_path / "нет")) == ""
