"""Независимая мера атрибутов: ROC AUC, классификатор и отчёт об эффектах векторов."""

import itertools

import numpy as np
import pytest

from course_utils.face_attributes import (
    AUC_BAR,
    AttributeClassifier,
    report_attribute_effects,
    roc_auc,
)
from course_utils.generated_faces import RENDERED_ATTRIBUTES


def _auc_by_pairs(labels, scores):
    """Определение AUC напрямую: доля пар (с атрибутом, без), где первая оценка выше."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_roc_auc_matches_pair_counting():
    rng = np.random.default_rng(0)
    labels = rng.random(60) < 0.4
    scores = np.round(rng.random(60) + 0.3 * labels, 1)  # округление даёт ничьи
    assert roc_auc(labels, scores) == pytest.approx(_auc_by_pairs(labels, scores))
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]) == 0.0
    assert np.isnan(roc_auc([1, 1], [0.1, 0.2]))


def test_classifier_measures_rendered_attributes_and_not_noise(faces_classifier):
    clf, images, labels = faces_classifier
    clf.report()
    assert len(clf.holdout) == 200 and clf.holdout.min() == 600  # последние 25 %
    for name in RENDERED_ATTRIBUTES:
        assert clf.auc[name] >= AUC_BAR, (name, clf.auc[name])
    assert clf.auc["Young"] < AUC_BAR  # шум не измерим
    assert clf.measurable() == list(RENDERED_ATTRIBUTES)
    # AUC пересчитан независимо по вероятностям на отложенных лицах
    probs = clf.predict(images[clf.holdout])
    smiling = labels["Smiling"].to_numpy()[clf.holdout]
    assert clf.auc["Smiling"] == pytest.approx(_auc_by_pairs(smiling, probs["Smiling"]))


def test_report_gives_verdicts_only_for_measurable_attributes(capsys):
    clf = AttributeClassifier(
        model=None,
        names=("Smiling", "Male", "Young"),
        auc={"Smiling": 0.99, "Male": 0.95, "Young": 0.55},
        holdout=np.arange(10),
    )
    effects = {
        "Smiling": {
            "alphas": [-2, 0, 2],
            "probs": {"Smiling": [0.1, 0.5, 0.9], "Male": [0.4, 0.4, 0.7], "Young": [0, 0, 1]},
        },
        "Male": {
            "alphas": [-2, 0, 2],
            "probs": {"Smiling": [0.5, 0.5, 0.5], "Male": [0.3, 0.6, 0.5], "Young": [0, 0, 0]},
        },
        "Young": {
            "alphas": [-2, 0, 2],
            "probs": {"Smiling": [0.5, 0.5, 0.5], "Male": [0.5, 0.5, 0.5], "Young": [0, 0.5, 1]},
        },
    }
    verdicts = report_attribute_effects(effects, clf)
    assert verdicts == {"Smiling": "растёт", "Male": "не растёт", "Young": "не измерим"}
    out = capsys.readouterr().out
    assert "Male +0.30" in out  # утечка улыбки в «мужчину»; неизмеримый Young не в счёт


def test_a_tiny_rise_is_not_a_working_vector(capsys):
    clf = AttributeClassifier(
        model=None, names=("Smiling", "Male"), auc={"Smiling": 1.0, "Male": 1.0}, holdout=[0]
    )
    tiny = {"Smiling": [0.00, 0.004, 0.01], "Male": [0.5, 0.5, 0.5]}
    clear = {"Smiling": [0.5, 0.5, 0.5], "Male": [0.2, 0.4, 0.6]}
    effects = {
        "Smiling": {"alphas": [-2, 0, 2], "probs": tiny},
        "Male": {"alphas": [-2, 0, 2], "probs": clear},
    }
    assert report_attribute_effects(effects, clf) == {"Smiling": "не растёт", "Male": "растёт"}
    # порог — параметр: с нулевым порогом любой строгий рост засчитывается
    assert report_attribute_effects(effects, clf, min_effect=0.0)["Smiling"] == "растёт"
