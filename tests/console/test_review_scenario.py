"""examples/review.qotd, three weeks of personal review in the console: alice and bob
answer every daily question, alice works through her due cards every evening, bob never
reviews. The script is what a reader runs; this test reads its output the way the
scenario's header says it should look."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "review.qotd"
BANK = ROOT / "examples" / "review-bank"

_STATUS = re.compile(r"\(only (\w+) sees this\)\n== Review status ==\nDue now: (\d+)\n"
                     r".*?Predicted retention now \(FSRS\): (\d+)%", re.S)
_MASTERY = re.compile(r"== Mastery for (\w+) ==\n\*\*Mastery by topic\*\*\n((?:- .*\n)+)")
_TOPIC = re.compile(r": (\d+) cards?, (\d+)% remembered")


def remembered(lines: str) -> float:
    """The cards a person would recall now: each topic's cards times its share remembered."""
    return sum(int(cards) * int(share) / 100 for cards, share in _TOPIC.findall(lines))


def test_three_weeks_of_review_in_the_console(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["console", "--as", "alice", "--start", "2027-01-04T07:00Z",
                 "--bank", str(BANK), "--script", str(SCRIPT)])
    out, err = capsys.readouterr()
    assert code == 0, err
    statuses = [(who, int(due), int(kept)) for who, due, kept in _STATUS.findall(out)]
    alice = [(due, kept) for who, due, kept in statuses if who == "alice"]
    bob = [(due, kept) for who, due, kept in statuses if who == "bob"]
    # every evening alice has cards due (her own misses and the reviews coming back) and
    # works through all of them: the status after her session says none is due
    evenings = [alice[i:i + 2] for i in range(0, len(alice) - 1, 2)]
    assert len(evenings) == 15
    assert all(before[0] > 0 and after[0] == 0 for before, after in evenings), alice
    # bob never reviews: his queue only grows, Friday after Friday, and his predicted
    # retention falls below alice's
    bob_due = [due for due, _ in bob]
    assert bob_due == sorted(bob_due) and bob_due[0] < bob_due[-2], bob
    assert bob_due[-1] >= 10
    assert all(kept < alice[-1][1] for _, kept in bob[1:]), (bob, alice[-1])
    # mastery: the cards alice would recall now rise every week, and stay above bob's
    by_week: dict[str, list[float]] = {"alice": [], "bob": []}
    for who, lines in _MASTERY.findall(out):
        by_week[who].append(remembered(lines))
    assert len(by_week["alice"]) == len(by_week["bob"]) == 3
    assert by_week["alice"] == sorted(by_week["alice"]), by_week
    assert by_week["alice"][0] < by_week["alice"][-1]
    assert all(a > b for a, b in zip(by_week["alice"], by_week["bob"], strict=True)), by_week
