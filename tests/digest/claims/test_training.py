"""`make train` is reproducible: a fresh training run from the labels writes, byte for byte,
the weights file that ships (so the shipped weights are the labels' and nothing else's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.claims.finder import EXTRACTOR_VERSION


def test_a_fresh_training_run_writes_the_shipped_weights(shared_dir: Path) -> None:
    pytest.importorskip("sklearn", reason="training needs the `train` extra (scikit-learn)")
    if not (shared_dir / "claims" / "pool").is_dir():
        pytest.skip(f"the labelling pool is not at {shared_dir / 'claims' / 'pool'}")
    from digest.claims.training.train import train, weights_path

    body, detector, cv = train()
    assert detector.version == EXTRACTOR_VERSION
    assert body == weights_path().read_text(encoding="utf-8")
    print(f"\nretrained {detector.version}: cross-validated claim {cv.claim}")
