"""The weights file and the linear models read from it; the scores the detector is chosen by."""

from __future__ import annotations

import math

import pytest

from digest.claims.finder import EXTRACTOR_VERSION, SHIPPED
from digest.claims.model import LinearModel, WeightsError, detector_from_json, load_shipped
from digest.claims.training.metrics import cohen_kappa, macro_f1, prf


def test_a_binary_model_is_a_logistic_regression() -> None:
    model = LinearModel(classes=("no", "yes"), bias=(-1.0,), weights={"a": (2.0,), "b": (0.5,)})
    assert model.probability(["a", "b", "unknown"]) == pytest.approx(1 / (1 + math.exp(-1.5)))
    assert model.best(["a"]) == "yes" and model.best([]) == "no"
    assert model.probabilities(["a"])["no"] == pytest.approx(1 / (1 + math.exp(1.0)))


def test_a_multinomial_model_is_a_softmax() -> None:
    model = LinearModel(
        classes=("x", "y", "z"), bias=(0.0, 0.0, 0.0), weights={"f": (1.0, 0.0, -1.0)}
    )
    probabilities = model.probabilities(["f"])
    total = math.exp(1) + 1 + math.exp(-1)
    assert probabilities == pytest.approx(
        {"x": math.e / total, "y": 1 / total, "z": 1 / (math.e * total)}
    )
    assert model.best(["f"]) == "x"


def test_the_shipped_weights_carry_the_extractor_version_and_their_provenance() -> None:
    assert load_shipped() == SHIPPED
    assert SHIPPED.version == EXTRACTOR_VERSION and EXTRACTOR_VERSION.startswith("lr-")
    assert 0 < SHIPPED.claim_threshold < 1 and 0 < SHIPPED.anecdote_threshold < 1
    assert set(SHIPPED.type.classes) == {
        "efficacy", "mechanism", "safety", "dosage", "cost_access", "practice_training",
        "cause_prevalence",
    }  # fmt: skip


def test_a_malformed_weights_file_is_refused() -> None:
    with pytest.raises(WeightsError, match="expected a number"):
        detector_from_json({"version": "v", "thresholds": {"claim": "high", "anecdote": 0.5},
                            "models": {}})  # fmt: skip
    with pytest.raises(WeightsError, match="'form'"):
        detector_from_json({"version": "v", "thresholds": {"claim": 0.5, "anecdote": 0.5},
                            "models": {}})  # fmt: skip


def test_scores() -> None:
    counts = prf([True, True, False, False], [True, False, True, False])
    assert (counts.tp, counts.fp, counts.fn) == (1, 1, 1)
    assert counts.f1 == pytest.approx(0.5)
    assert macro_f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx((2 / 3 + 2 / 3) / 2)
    # Cohen's kappa: 2x2 example with observed 0.7 and chance 0.5 agreement
    first = ["y"] * 5 + ["n"] * 5
    second = ["y"] * 4 + ["n"] + ["y"] * 2 + ["n"] * 3
    assert cohen_kappa(first, second) == pytest.approx((0.7 - 0.5) / 0.5)
    assert cohen_kappa(first, first) == 1.0
