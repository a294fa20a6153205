"""Координатор бенчмарка «время до качества» (tools/bench/time_to_quality.py): эпохи рецептов
чередуются (ABBA), рецепт останавливается на качестве, отношения считаются к базовому."""

import importlib.util

import pytest

from course_utils.config import REPO_ROOT

pytestmark = pytest.mark.backend_free  # координатор — чистый Python, без фреймворка

_spec = importlib.util.spec_from_file_location(
    "time_to_quality", REPO_ROOT / "tools" / "bench" / "time_to_quality.py"
)
ttq = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ttq)


class FakeWorker:
    """Рецепт без обучения: эпоха длится ``seconds[i]``, качество достигается на ``reach``."""

    def __init__(self, name, epochs, checks, reach, seconds, steps_per_epoch, log):
        self.name, self.steps_per_epoch, self.log = name, steps_per_epoch, log
        self.recipe = dict(epochs=epochs, checks=checks, lr=1e-3, schedule="constant")
        self.reach, self.seconds, self.epochs, self.closed = reach, seconds, [], False
        self.full = False

    def train_epoch(self):
        epoch = len(self.epochs) + 1
        self.log.append((self.name, epoch))
        report = {"epoch": epoch, "seconds": self.seconds[epoch - 1]}
        if epoch in self.recipe["checks"]:
            report.update(
                psnr_db=float(epoch), reached=self.reach is not None and epoch >= self.reach
            )
        self.epochs.append(report)
        return report

    done = ttq.Worker.done

    def close(self):
        self.closed = True


def _page(task, rows):
    """Таблица задачи ``task`` с рецептами ``rows`` (базовый — ``base``), как в docs/benchmarks.md."""
    run = dict(date="2026-12-07 18:00 UTC", cpus=2, load_before=[0.5] * 3, load_after=[1.0] * 3)
    return ttq.markdown({task: {**run, "commit": "abc1234", "baseline": "base", "recipes": rows}})


def _pair(log):
    # Базовый: 6 эпох по 4 шага, качество на 6-й; быстрый: качество на 2-й из 4, шаг вдвое дороже.
    base = FakeWorker("base", 6, (2, 4, 6), 6, [8.0] * 6, 4, log)
    fast = FakeWorker("fast", 4, (2, 4), 2, [16.0, 16.0, 16.0, 16.0], 4, log)
    return base, fast


def test_epochs_alternate_in_abba_order_and_stop_at_quality():
    log = []
    base, fast = _pair(log)
    rounds = ttq.interleave([base, fast], echo=lambda line: None)
    assert log[:4] == [("base", 1), ("fast", 1), ("fast", 2), ("base", 2)]
    # «fast» достиг качества на 2-й эпохе и больше не учился; «base» доучился до своего.
    assert [e for name, e in log if name == "fast"] == [1, 2]
    assert [e for name, e in log if name == "base"] == [1, 2, 3, 4, 5, 6]
    assert rounds == {"base": [1, 2, 3, 4, 5, 6], "fast": [1, 2]}
    assert base.closed and fast.closed


def test_ratios_are_to_the_baseline_and_steps_are_paired_by_round():
    log = []
    base, fast = _pair(log)
    rows = ttq.summarize([base, fast], ttq.interleave([base, fast], echo=lambda line: None), "base")
    by_name = {row["recipe"]: row for row in rows}
    assert (
        by_name["base"]["steps_to_quality"] == 24 and by_name["base"]["minutes_to_quality"] == 0.8
    )
    assert by_name["fast"]["steps_to_quality"] == 8
    assert by_name["fast"]["minutes_to_quality"] == round(32 / 60, 2)
    assert by_name["fast"]["steps_ratio"] == round(8 / 24, 3)
    assert by_name["fast"]["time_ratio"] == round(32 / 48, 3)
    # В кругах 1 и 2 шаг «fast» — 4 с против 2 с у базового.
    assert by_name["fast"]["paired_step_ratio"] == 2.0
    assert by_name["base"]["paired_step_ratio"] == 1.0
    # Базовый доучился до конца (6-я эпоха — и качество, и конец): 48 с полного времени.
    assert by_name["fast"]["full_time_ratio"] == round(32 / 48, 3)


def test_the_baseline_trains_its_whole_recipe_after_reaching_quality():
    log = []
    # Базовый достигает качества на 2-й эпохе из 4, но учится все 4 (полное время — 4 × 10 с).
    base = FakeWorker("base", 4, (2, 4), 2, [10.0] * 4, 5, log)
    base.full = True
    fast = FakeWorker("fast", 4, (1, 2, 4), 1, [10.0] * 4, 5, log)
    rows = ttq.summarize([base, fast], ttq.interleave([base, fast], echo=lambda line: None), "base")
    assert [e for name, e in log if name == "base"] == [1, 2, 3, 4]
    assert [e for name, e in log if name == "fast"] == [1]
    by_name = {row["recipe"]: row for row in rows}
    assert by_name["base"]["steps_to_quality"] == 10 and by_name["base"]["time_ratio"] == 1.0
    assert by_name["base"]["full_time_ratio"] == 0.5  # 20 с до качества из 40 с полного
    assert by_name["fast"]["time_ratio"] == 0.5 and by_name["fast"]["full_time_ratio"] == 0.25
    assert by_name["fast"]["full_baseline_minutes"] == round(40 / 60, 2)
    text = _page("faces", rows)
    assert "| `fast` | 5 | 0.17 | 0.5 | 0.5 | 0.25 | 1 |" in text


def test_a_recipe_that_never_reaches_quality_says_so():
    log = []
    base = FakeWorker("base", 2, (2,), 2, [5.0, 5.0], 3, log)
    slow = FakeWorker("slow", 2, (1, 2), None, [5.0, 5.0], 3, log)
    rows = ttq.summarize([base, slow], ttq.interleave([base, slow], echo=lambda line: None), "base")
    slow_row = next(row for row in rows if row["recipe"] == "slow")
    assert slow_row["steps_to_quality"] is None and slow_row["time_ratio"] is None
    text = _page("cifar", rows)
    assert "| `slow` | не достиг |" in text
    assert "1: 1, 2: 2" in text  # PSNR по контрольным эпохам
    faces_check = {
        "epoch": 40,
        "psnr_db": 21.1,
        "vectors": dict.fromkeys("abcdef"),
        "working": ["a"],
    }
    assert ttq._check_text(faces_check) == "40: 21.1 (векторов 1 из 6)"


def test_every_default_pair_names_known_recipes_with_checks_inside_their_epochs():
    for task, names in ttq.DEFAULT_RECIPES.items():
        assert set(names) <= set(ttq.RECIPES[task])
    for recipes in ttq.RECIPES.values():
        for recipe in recipes.values():
            assert recipe["epochs"] in recipe["checks"]
            assert all(1 <= check <= recipe["epochs"] for check in recipe["checks"])


def test_cifar_without_the_real_archive_is_skipped_with_a_reason(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    assert ttq.main(["--task", "cifar"]) == 0
    assert "пропущено" in capsys.readouterr().out


def test_benchmarks_page_shows_the_rendering_of_the_recorded_json(tmp_path):
    recorded = REPO_ROOT / "docs" / "time_to_quality.json"
    page = REPO_ROOT / "docs" / "benchmarks.md"
    copy = tmp_path / "benchmarks.md"
    copy.write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    ttq.render(recorded, copy)
    block = copy.read_text(encoding="utf-8").split(ttq.MD_START)[1].split(ttq.MD_END)[0]
    assert page.read_text(encoding="utf-8") == copy.read_text(encoding="utf-8"), (
        "docs/benchmarks.md устарел: tools/bench/time_to_quality.py --render-only "
        "--json docs/time_to_quality.json --markdown docs/benchmarks.md"
    )
    assert "| `cosine20` |" in block
