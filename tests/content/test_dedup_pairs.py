"""Precision and recall of the near-duplicate grouping on labelled pairs from the seeds.

tests/fixtures/dedup_pairs.yaml holds pairs of the committed bank's questions, labelled
`same` or `different` by reading both prompts and answers. The grouping of the whole bank
(every question, so a pair is judged by the groups it really ends up in, chains and all)
is scored against them: a `same` pair in one group is a true positive, a `different` pair
in one group a false merge. The line is printed even without `pytest -s`:

    dedup pairs: precision 1.00 recall 0.98 (n=112: 60 same, 52 different)
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import pytest
import yaml

from content.bank import Bank, load_bank
from content.dedup import Groups, Overrides, group, load_overrides, may_share_group

ROOT = Path(__file__).resolve().parents[2]
PAIRS = ROOT / "tests" / "fixtures" / "dedup_pairs.yaml"
BANK = ROOT / "content" / "bank"
LABELS = ("same", "different")
# The clear misses issue 13 names, each asked in two seeds with other wording.
NAMED = {
    ("qdfe1ebee9c28", "qe116be4d08e8"),  # batch vs online / real-time inference
    ("qdbface5f876c", "q3300d9ef6246"),  # how do you handle missing data
    ("q0680d0b78e32", "q8a4bce62d7f9"),  # what is ONNX
    ("q519a16b6a555", "qa413495721ca"),  # how do you automate retraining
}


@dataclass(frozen=True)
class Pair:
    line: int
    label: str
    why: str
    a: str
    b: str


def load_pairs(path: Path) -> list[Pair]:
    """The labelled pairs, each with its line (for the messages)."""
    text = path.read_text(encoding="utf-8")
    node = yaml.compose(text)
    assert isinstance(node, yaml.SequenceNode), f"{path}:1: expected a list of pairs"
    pairs = []
    for item in node.value:
        line = item.start_mark.line + 1
        data = yaml.safe_load(yaml.serialize(item))
        labels = [k for k in LABELS if k in data]
        assert len(labels) == 1 and set(data) == {labels[0], "a", "b"}, (
            f"{path}:{line}: expected one of {LABELS} (with the reason) and the ids a and b"
        )
        pairs.append(Pair(line, labels[0], str(data[labels[0]]), str(data["a"]), str(data["b"])))
    return pairs


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank(BANK)


@pytest.fixture(scope="module")
def pairs() -> list[Pair]:
    return load_pairs(PAIRS)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    same: int
    different: int
    missed: tuple[Pair, ...]
    false_merges: tuple[Pair, ...]

    def line(self) -> str:
        n = self.same + self.different
        return (f"dedup pairs: precision {self.precision:.2f} recall {self.recall:.2f} "
                f"(n={n}: {self.same} same, {self.different} different)")


def score(groups: Groups, pairs: list[Pair]) -> Score:
    def together(p: Pair) -> bool:
        return groups.canonical_of(p.a) == groups.canonical_of(p.b)

    same = [p for p in pairs if p.label == "same"]
    different = [p for p in pairs if p.label == "different"]
    found = [p for p in same if together(p)]
    false = [p for p in different if together(p)]
    merged = len(found) + len(false)
    return Score(
        precision=len(found) / merged if merged else 1.0,
        recall=len(found) / len(same),
        same=len(same),
        different=len(different),
        missed=tuple(p for p in same if not together(p)),
        false_merges=tuple(false),
    )


def describe(bank: Bank, ps: tuple[Pair, ...]) -> str:
    def show(qid: str) -> str:
        q = bank.get(qid)
        assert q is not None
        return f"{q.prompt.splitlines()[0]!r} ({q.source})"

    return "\n".join(f"  {PAIRS.name}:{p.line} {p.label}: {show(p.a)} ~ {show(p.b)}" for p in ps)


def test_pair_file_is_well_formed(bank: Bank, pairs: list[Pair]) -> None:
    unknown = [f"{PAIRS}:{p.line}: {i} is not in the bank" for p in pairs for i in (p.a, p.b)
               if bank.get(i) is None]
    assert not unknown, "\n".join(unknown)
    seen: dict[frozenset[str], Pair] = {}
    for p in pairs:
        key = frozenset((p.a, p.b))
        assert len(key) == 2, f"{PAIRS}:{p.line}: a pair of one question"
        assert key not in seen, f"{PAIRS}:{p.line}: the pair of line {seen[key].line} again"
        seen[key] = p
        assert p.why.strip(), f"{PAIRS}:{p.line}: say why"
    assert len(pairs) >= 40
    assert sum(p.label == "same" for p in pairs) >= 20
    assert sum(p.label == "different" for p in pairs) >= 20
    same = {frozenset((p.a, p.b)) for p in pairs if p.label == "same"}
    assert {frozenset(n) for n in NAMED} <= same


def test_precision_and_recall_of_the_heuristic(
    bank: Bank, pairs: list[Pair], capsys: pytest.CaptureFixture[str]
) -> None:
    """The heuristic alone (no reviewer overrides): recall >= 0.9 at precision 1.0."""
    result = score(group(list(bank), Overrides()), pairs)
    with capsys.disabled():
        print(f"\n{result.line()}")
        if result.missed:
            print(f"missed:\n{describe(bank, result.missed)}")
    assert not result.false_merges, f"false merges:\n{describe(bank, result.false_merges)}"
    assert result.precision == 1.0
    assert result.recall >= 0.9, f"{result.line()}; missed:\n{describe(bank, result.missed)}"


def test_the_committed_overrides_keep_precision(bank: Bank, pairs: list[Pair]) -> None:
    overrides = load_overrides(BANK / "overrides.yaml")
    alone = score(group(list(bank), Overrides()), pairs)
    result = score(group(list(bank), overrides), pairs)
    assert not result.false_merges, f"false merges:\n{describe(bank, result.false_merges)}"
    assert result.recall >= alone.recall


def test_no_group_of_the_bank_chains_two_subjects(bank: Bank) -> None:
    """Every two members of every group are compatible (nothing in the prompts tells them
    apart), unless a reviewer merged them: no chain joins two different subjects."""
    overrides = load_overrides(BANK / "overrides.yaml")
    merged = {frozenset(p) for ids in overrides.merge for p in combinations(ids, 2)}
    chained = []
    for g in group(list(bank), overrides).duplicates():
        for x, y in combinations(g.members, 2):
            qx, qy = bank.get(x), bank.get(y)
            assert qx is not None and qy is not None
            if frozenset((x, y)) not in merged and not may_share_group(qx.prompt, qy.prompt):
                chained.append(f"  {qx.prompt!r} ~ {qy.prompt!r} (group of {g.canonical})")
    assert not chained, "members that differ:\n" + "\n".join(chained)
