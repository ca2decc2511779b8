"""Which pool articles are labelled, and the split by article into train, dev and test, made
once, before any model or feature work, and recorded in `split.json`.

    python -m digest.claims.training.split            # writes split.json (reproducible)
    python -m digest.claims.training.split --check    # exit 1 if split.json differs

Chosen articles:
- `main`: every article that pool.jsonl says mentions massage or back pain (57), and a seeded
  random sample of OTHER_SAMPLE articles that mention neither (and not acupuncture), in the
  pool's proportion of news stories to press releases;
- `topic2`: the second topic, acupuncture: articles outside `main` that mention it at least
  TOPIC2_MIN_MENTIONS times, and TOPIC2_PASSING articles that mention it once or twice.
  Held out entirely: never trained on, only reported.
- `agreement`: articles of `main` labelled a second time, independently, for Cohen's kappa:
  a seeded sample, topical and other articles in turn, until AGREEMENT_SENTENCES sentences.

Near-duplicates (one study reported by several outlets, or a release and its story) would
leak across the split, so articles whose texts are similar (TF-IDF cosine at least
DUPLICATE_COSINE) are grouped first and a group always falls in one split. Groups are then
shuffled with SEED within three strata (topic-heavy: 3+ mentions; passing: 1-2; off-topic:
0) and dealt out in the proportions TEST_SHARE and DEV_SHARE, the rest to train.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from digest.claims.training.labeltool import pool_dir, units

SPLIT_FILE: Final = Path(__file__).resolve().parent / "split.json"
SEED: Final = 20261201
OTHER_SAMPLE: Final = 70
TEST_SHARE: Final = 0.30
DEV_SHARE: Final = 0.20
TOPIC2_MIN_MENTIONS: Final = 5
TOPIC2_PASSING: Final = 2
AGREEMENT_SENTENCES: Final = 450
# Measured over the pool: reports of one study by two outlets score 0.36-0.64 (the four
# stories on acupuncture for depression in pregnancy, two on lazy eye, two releases on one
# drug); 95 % of articles have no partner above 0.32. Grouping too much only constrains the
# split, grouping too little leaks a study into the test split, so the bar sits low.
DUPLICATE_COSINE: Final = 0.30

_ACUPUNCTURE_RE = re.compile(r"\b(?:electro-?)?acupunct\w*", re.I)
_WORD_RE = re.compile(r"[a-z][a-z'-]{2,}")


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolArticle:
    file: str
    collection: str
    mentions: int  # massage + back pain, as pool.jsonl counts them
    acupuncture: int


def read_pool(pool: Path) -> list[PoolArticle]:
    articles = []
    for line in (pool.parent / "pool.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text = (pool / row["file"]).read_text(encoding="utf-8")
        articles.append(
            PoolArticle(
                file=row["file"],
                collection=row["collection"],
                mentions=int(row["mentions_massage"]) + int(row["mentions_back_pain"]),
                acupuncture=len(_ACUPUNCTURE_RE.findall(text)),
            )
        )
    return articles


def _vectors(pool: Path, files: Sequence[str]) -> dict[str, dict[str, float]]:
    """Unit TF-IDF vectors (log term frequency; document frequency over the whole pool)."""
    counts = {
        path.name: Counter(_WORD_RE.findall(path.read_text(encoding="utf-8").lower()))
        for path in sorted(pool.glob("*.txt"))
    }
    frequency: Counter[str] = Counter()
    for words in counts.values():
        frequency.update(words.keys())
    vectors = {}
    for file in files:
        weights = {
            word: (1 + math.log(n)) * math.log(len(counts) / frequency[word])
            for word, n in counts[file].items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors[file] = {word: w / norm for word, w in weights.items()}
    return vectors


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return sum(weight * large.get(word, 0.0) for word, weight in small.items())


def duplicate_groups(files: Sequence[str], pool: Path) -> list[list[str]]:
    """Connected components of the near-duplicate relation, each sorted, in file order."""
    vectors = _vectors(pool, files)
    parent = {file: file for file in files}

    def root(file: str) -> str:
        while parent[file] != file:
            file = parent[file]
        return file

    for i, a in enumerate(files):
        for b in files[i + 1 :]:
            if _cosine(vectors[a], vectors[b]) >= DUPLICATE_COSINE:
                parent[root(b)] = root(a)
    groups: dict[str, list[str]] = {}
    for file in files:
        groups.setdefault(root(file), []).append(file)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])


def _sample_others(articles: Sequence[PoolArticle], rng: random.Random) -> list[PoolArticle]:
    others = [a for a in articles if a.mentions == 0 and a.acupuncture == 0]
    chosen: list[PoolArticle] = []
    for collection in sorted({a.collection for a in others}):
        members = [a for a in others if a.collection == collection]
        share = round(OTHER_SAMPLE * len(members) / len(others))
        chosen.extend(rng.sample(members, share))
    return sorted(chosen, key=lambda a: a.file)


def _stratum(group: Sequence[str], mentions: dict[str, int]) -> str:
    most = max(mentions[file] for file in group)
    return "heavy" if most >= 3 else "passing" if most else "off"


def _deal(groups: list[list[str]], rng: random.Random) -> dict[str, str]:
    """Each group's files to a split: shuffled, then test, dev and train shares in turn."""
    rng.shuffle(groups)
    total = sum(len(g) for g in groups)
    assigned: dict[str, str] = {}
    counts = {"test": 0, "dev": 0}
    for group in groups:
        if counts["test"] < TEST_SHARE * total:
            name = "test"
        elif counts["dev"] < DEV_SHARE * total:
            name = "dev"
        else:
            name = "train"
        counts[name] = counts.get(name, 0) + len(group)
        assigned.update(dict.fromkeys(group, name))
    return assigned


def make_split(pool: Path) -> dict[str, object]:
    rng = random.Random(SEED)
    articles = read_pool(pool)
    topical = [a for a in articles if a.mentions > 0]
    main = sorted(topical + _sample_others(articles, rng), key=lambda a: a.file)
    mentions = {a.file: a.mentions for a in main}
    groups = duplicate_groups([a.file for a in main], pool)
    assigned: dict[str, str] = {}
    for stratum in ("heavy", "passing", "off"):
        members = [g for g in groups if _stratum(g, mentions) == stratum]
        assigned.update(_deal(members, rng))
    in_main = set(mentions)
    candidates = [a for a in articles if a.file not in in_main and a.acupuncture]
    heavy = [a.file for a in candidates if a.acupuncture >= TOPIC2_MIN_MENTIONS]
    topic2 = [group[0] for group in duplicate_groups(heavy, pool)]
    topic2 += [a.file for a in candidates if a.acupuncture <= 2][:TOPIC2_PASSING]
    return {
        "seed": SEED,
        "agreement": _agreement(main, pool, rng),
        "method": "digest/claims/training/split.py (module docstring)",
        "main": {file: assigned[file] for file in sorted(assigned)},
        "groups": [g for g in groups if len(g) > 1],
        "topic2": {"topic": "acupuncture", "files": sorted(topic2)},
    }


def _agreement(main: Sequence[PoolArticle], pool: Path, rng: random.Random) -> list[str]:
    topical = [a.file for a in main if a.mentions]
    other = [a.file for a in main if not a.mentions]
    rng.shuffle(topical)
    rng.shuffle(other)
    chosen: list[str] = []
    sentences = 0
    for pair in zip(topical, other, strict=False):
        for file in pair:
            if sentences < AGREEMENT_SENTENCES:
                chosen.append(file)
                sentences += len(units((pool / file).read_text(encoding="utf-8")))
    return sorted(chosen)


def load_split(path: Path = SPLIT_FILE) -> dict[str, str]:
    """Pool file -> "train" | "dev" | "test" for the main labelled set."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data["main"].items()}


def load_groups(path: Path = SPLIT_FILE) -> list[list[str]]:
    """The near-duplicate groups of the main set (each kept in one split, and one fold)."""
    return [[str(f) for f in group] for group in json.loads(path.read_text("utf-8"))["groups"]]


def load_topic2(path: Path = SPLIT_FILE) -> tuple[str, list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))["topic2"]
    return str(data["topic"]), [str(f) for f in data["files"]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the labelled articles and their split")
    parser.add_argument("--check", action="store_true", help="compare with split.json")
    args = parser.parse_args(argv)
    body = json.dumps(make_split(pool_dir()), indent=1) + "\n"
    if args.check:
        same = SPLIT_FILE.read_text(encoding="utf-8") == body
        print("split.json is reproducible" if same else "split.json differs from a fresh split")
        return 0 if same else 1
    SPLIT_FILE.write_text(body, encoding="utf-8")
    print(f"wrote {SPLIT_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
