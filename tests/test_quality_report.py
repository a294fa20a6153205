"""`make quality` (tools/quality.py): отчёт из чисел ноутбуков, невыполненное названо прямо."""

import importlib.util
import json

import pytest

from course_utils.config import REPO_ROOT

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow


def _tool():
    spec = importlib.util.spec_from_file_location("quality", REPO_ROOT / "tools" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FACES = {
    "run": "нарисованные лица: 5400 изображений, 645 шагов, 40 мин",
    "test_images": 600,
    "reconstruction_psnr_db": 21.5,
    "active_dims": 37,
    "kl_total_nats": 55.0,
    "diversity_vs_real": 0.61,
    "morph_max_over_mean_step": 1.4,
    "classifier_auc": {"Smiling": 0.99, "Young": 0.5},
    "attribute_effects": {
        "Smiling": {"Smiling": [0.1, 0.5, 0.9], "Young": [0.2, 0.2, 0.9]},
        "Young": {"Smiling": [0.5, 0.5, 0.5], "Young": [0.4, 0.5, 0.6]},
    },
    "verdicts": {"Smiling": "растёт", "Young": "не измерим"},
}


def test_report_reuses_part_results_and_names_what_was_not_run(tmp_path, monkeypatch):
    tool = _tool()
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    faces = tmp_path / "faces.json"
    faces.write_text(json.dumps(FACES, ensure_ascii=False), encoding="utf-8")
    tool.main(
        [
            "--parts",
            "fashion,faces",
            "--reuse",
            f"faces={faces}",
            "--reuse",
            f"fashion={_fashion(tmp_path)}",
        ]
    )
    report = (tmp_path / "docs" / "quality.md").read_text(encoding="utf-8")
    assert "**135.90** (лекция: 135.56)" in report
    assert "## CIFAR-10, эталон задания\n\nНе выполнялось в этом отчёте." in report
    assert "| PSNR реконструкций, дБ | 21.5 |" in report
    # утечка считается только по измеримым атрибутам: Young (AUC 0.5) не в счёт
    assert "| Smiling | 0.990 | 0.10 | 0.50 | 0.90 | растёт | — +0.00 |" in report
    # откуда взяты готовые числа, отчёт говорит сам
    assert "* fashion: `fashion.json`\n* faces: `faces.json`" in report
    saved = json.loads((tmp_path / "docs" / "quality.json").read_text(encoding="utf-8"))
    assert saved["faces"]["active_dims"] == 37 and "cifar" not in saved


def _fashion(folder):
    path = folder / "fashion.json"
    path.write_text(json.dumps({"epochs": 5, "val_loss": 135.9, "minutes": 9.0}))
    return path
