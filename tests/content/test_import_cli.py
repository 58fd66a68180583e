"""`qotd import` and `qotd bank ...` driven in-process through `bot.cli.main`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from content.bank import load_bank, write_bank_file
from content.importing import default_bank_dir
from content.model import Question, SourceRef

GOOD = """\
Which tool versions large data files next to Git?
A. DVC
B. Airflow
C. Grafana
ANSWER: A

What does a canary release expose first?
A) All users
B) A small share of traffic
ANSWER: B
"""

OTHER = """\
Which metric detects feature drift between two samples?
A. Population stability index
B. Accuracy
ANSWER: A
"""

BAD = """\
Which is a feature store?
A. Feast
B. Kafka
ANSWER: Z
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in {"good.txt": GOOD, "other.txt": OTHER, "bad.txt": BAD}.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        out[name] = path
    return out


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_dry_run_json_shape(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = tmp_path / "bank"
    code, out, _ = run(capsys, "import", "--format", "aiken", "--dry-run", "--json",
                       "--bank-dir", bank, files["good.txt"], files["other.txt"])
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"files", "total", "duplicate_groups"}
    assert [set(f) for f in report["files"]] == [
        {"path", "format", "found", "ready", "needs_key", "needs_answer", "skipped",
         "held_back", "warnings"}
    ] * 2
    assert [(f["skipped"], f["held_back"], f["warnings"]) for f in report["files"]] == [
        ([], [], [])
    ] * 2
    assert [(f["format"], f["found"], f["ready"]) for f in report["files"]] == [
        ("aiken", 2, 2), ("aiken", 1, 1)
    ]
    assert report["total"] == {"found": 3, "ready": 3, "needs_key": 0, "needs_answer": 0}
    assert report["duplicate_groups"] == 0
    assert not bank.exists()


def test_per_file_atomicity(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = tmp_path / "bank"
    code, out, err = run(capsys, "import", "--format", "aiken", "--bank-dir", bank,
                         files["good.txt"], files["bad.txt"])
    assert code != 0
    assert (bank / "good.yaml").is_file()
    assert not (bank / "bad.yaml").exists()
    assert "bad.txt:4: ANSWER must be one of A, B" in err
    assert "good.txt (aiken): found 2, ready 2" in out
    assert len(load_bank(bank)) == 2


def test_unreadable_and_unrecognised_files(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = tmp_path / "bank"
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\xff\xfe\x00\x01garbage")
    code, _, err = run(capsys, "import", "--bank-dir", bank, tmp_path / "missing.txt", blob,
                       files["good.txt"])
    assert code == 1
    assert "missing.txt:1: cannot read" in err
    assert "blob.bin:1:" in err
    assert not (bank / "missing.yaml").exists() and not (bank / "blob.yaml").exists()


def test_reimport_is_byte_identical(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = tmp_path / "bank"
    args = ("import", "--format", "aiken", "--bank-dir", bank, files["good.txt"])
    assert run(capsys, *args)[0] == 0
    first = (bank / "good.yaml").read_bytes()
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert (bank / "good.yaml").read_bytes() == first
    assert "unchanged (new 0, kept from bank 2)" in out


def test_human_edits_win_and_missing_questions_are_kept(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = tmp_path / "bank"
    good = files["good.txt"]
    assert run(capsys, "import", "--format", "aiken", "--bank-dir", bank, good)[0] == 0
    path = bank / "good.yaml"
    path.write_text(path.read_text().replace("  - Grafana\n", "  - Grafana\n  explanation: "
                                             "Reviewed by a human.\n", 1))
    good.write_text(GOOD.split("\n\n")[0] + "\n\nWhich one is new?\nA. this\nB. that\nANSWER: A\n")
    code, out, _ = run(capsys, "import", "--format", "aiken", "--bank-dir", bank, good)
    assert code == 0
    questions = list(load_bank(bank))
    assert [q.prompt for q in questions] == [
        "Which tool versions large data files next to Git?",
        "Which one is new?",
        "What does a canary release expose first?",
    ]
    assert questions[0].explanation == "Reviewed by a human."
    assert "no longer in the source (kept in the bank)" in out
    assert "(new 1, kept from bank 1)" in out
    code, _, _ = run(capsys, "import", "--format", "aiken", "--overwrite", "--bank-dir", bank,
                     good)
    assert code == 0
    assert next(iter(load_bank(bank))).explanation == ""


def test_invalid_bank_stops_the_import(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "broken.yaml").write_text("source: x\nformat: y\nschema: 1\nquestions:\n- id: q1\n")
    code, _, err = run(capsys, "import", "--format", "aiken", "--bank-dir", bank,
                       files["good.txt"])
    assert code == 1
    assert "fix them first" in err and "broken.yaml:5:" in err
    assert not (bank / "good.yaml").exists()


def test_unknown_format_lists_the_choices(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "import", "--format", "nope", "--bank-dir", tmp_path / "b",
                       files["good.txt"])
    assert code == 2
    assert "unknown format 'nope'" in err and "aiken" in err


def _seeded_bank(folder: Path) -> list[Question]:
    def q(prompt: str, src: str, line: int, **kw: object) -> Question:
        return Question.make(prompt=prompt, source=SourceRef(file=src, line=line), **kw)  # type: ignore[arg-type]

    a = [
        q("What is model drift and how do you handle it in MLOps?", "s/000_a.txt", 17,
          answer="Performance decays as data changes.", difficulty="easy", topic="Monitoring"),
        q("What is data drift, and how do you handle it?", "s/000_a.txt", 95,
          answer="Input distribution shift.", topic="Monitoring"),
    ]
    b = [
        q("Can you explain the concept of model drift?", "s/001_b.txt", 33,
          answer="A longer answer about **model drift** and retraining.", topic="Monitoring"),
        q("Which tool versions data?", "s/001_b.txt", 40, kind="choice",
          choices=("DVC", "Grafana"), topic="Tools"),
    ]
    write_bank_file(folder / "000_a.yaml", "s/000_a.txt", "answer-list", a)
    write_bank_file(folder / "001_b.yaml", "s/001_b.txt", "article", b)
    return a + b


def test_bank_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    qs = _seeded_bank(tmp_path)
    code, out, _ = run(capsys, "bank", "validate", "--bank-dir", tmp_path)
    assert code == 0
    assert out.strip() == "bank OK: 4 questions in 2 files (ready 3, needs_key 1, needs_answer 0)"

    code, out, _ = run(capsys, "bank", "stats", "--bank-dir", tmp_path)
    assert code == 0
    assert "4 questions in 2 files" in out
    assert "Monitoring" in out and "needs_key" in out and "choice" in out

    code, out, _ = run(capsys, "bank", "show", qs[3].id, "--bank-dir", tmp_path)
    assert code == 0
    assert "Which tool versions data?" in out and " A) DVC" in out and "[needs_key]" in out

    code, _, err = run(capsys, "bank", "show", "qnothere", "--bank-dir", tmp_path)
    assert code == 1 and "qnothere" in err

    code, out, _ = run(capsys, "bank", "duplicates", "--bank-dir", tmp_path)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"{qs[2].id}  Can you explain the concept of model drift?")
    assert lines[1].strip().startswith(f"= {qs[0].id}") and "s/000_a.txt:17" in lines[1]
    assert lines[-1] == "1 duplicate groups among 4 questions"


def test_bank_validate_reports_every_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seeded_bank(tmp_path)
    path = tmp_path / "000_a.yaml"
    path.write_text(path.read_text().replace("difficulty: easy", "difficulty: trivial"))
    (tmp_path / "002_c.yaml").write_text("source: [\n")
    code, out, err = run(capsys, "bank", "validate", "--bank-dir", tmp_path)
    assert code == 1 and out == ""
    assert f"{path}:" in err and "difficulty" in err
    assert "002_c.yaml:" in err and "YAML syntax error" in err


def test_overrides_with_unknown_ids_fail_validation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qs = _seeded_bank(tmp_path)
    (tmp_path / "overrides.yaml").write_text(f"split:\n  - [{qs[0].id}, qgone]\n")
    code, _, err = run(capsys, "bank", "validate", "--bank-dir", tmp_path)
    assert code == 1 and "unknown question id qgone" in err
    (tmp_path / "overrides.yaml").write_text(f"split:\n  - [{qs[0].id}, {qs[2].id}]\n")
    assert run(capsys, "bank", "validate", "--bank-dir", tmp_path)[0] == 0
    code, out, _ = run(capsys, "bank", "duplicates", "--bank-dir", tmp_path)
    assert out.strip() == "0 duplicate groups among 4 questions"


def test_bank_dir_from_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seeded_bank(tmp_path)
    monkeypatch.setenv("QOTD_BANK_DIR", str(tmp_path))
    code, out, _ = run(capsys, "bank", "validate")
    assert code == 0 and "4 questions" in out
    monkeypatch.delenv("QOTD_BANK_DIR")
    assert default_bank_dir() == Path(__file__).parents[2] / "content" / "bank"


def test_content_cli_imports_nothing_heavy() -> None:
    """The whole `qotd` parser imports content.cli on every start."""
    code = (
        "import sys, content.cli; "
        "heavy = {'yaml', 'rapidfuzz', 'pydantic', 'content.importers', 'content.bank'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(__file__).parents[2],
    )
    assert result.stdout.strip() == "[]"


ROOT = Path(__file__).resolve().parents[2]


def test_seed_dry_run_totals(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The done-criterion: every seed sniffed and counted, through the command itself."""
    sources = sorted((ROOT / "content" / "sources").glob("*.txt"))
    code, out, _ = run(capsys, "import", "--dry-run", "--json", "--bank-dir", tmp_path,
                       *sources)
    assert code == 0
    report = json.loads(out)
    assert [f["found"] for f in report["files"]] == [100, 22, 30, 36, 17]
    assert report["total"]["found"] == 205 and report["total"]["ready"] == 198
    assert report["duplicate_groups"] > 0
    assert list(tmp_path.iterdir()) == []


def test_committed_bank_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    bank_dir = ROOT / "content" / "bank"
    code, out, err = run(capsys, "bank", "validate", "--bank-dir", bank_dir)
    assert code == 0, err
    assert out.startswith("bank OK: 205 questions in 5 files (ready 198,")
    code, out, _ = run(capsys, "bank", "duplicates", "--bank-dir", bank_dir)
    groups: list[list[str]] = []
    for line in out.splitlines()[:-1]:
        if line.startswith("    = "):
            groups[-1].append(line)
        else:
            groups.append([line])
    drift = [g for g in groups if "model drift" in g[0]]
    assert len(drift) == 1
    assert sorted(ln.rsplit("/", 1)[-1][:3] for ln in drift[0]) == ["000", "001", "003"]
