"""The import use case: source files → importer → per-file report → bank files.

Each file is atomic on its own: a file that cannot be read or parsed writes nothing and
is reported as `file:line: reason`, while the other files still import. An existing bank
file is reviewed work, so its version of a question wins over the source's (unless
`overwrite`), and questions that disappeared from the source are kept and reported.
A subject is one topic across the whole bank: its spelling is the one the bank already
uses (see `_unify_topics`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from content.bank import (
    OVERRIDES_NAME,
    Bank,
    BankFile,
    bank_path,
    dump_bank_file,
    load_bank,
    write_atomic,
)
from content.dedup import group, load_overrides
from content.importers import Importer, ParseError, all_importers, by_name, sniff
from content.importers.base import HeldBack, Skipped
from content.model import Question
from content.topics import choose_spellings, names_a_collection, subject_of, topic_key

log = logging.getLogger(__name__)

STATUSES = ("ready", "needs_key", "needs_answer")
_DEFAULT_HELD = {
    "needs_key": "the source gives no correct option; set `correct` in the bank file",
    "needs_answer": "the source gives no answer; write one in the bank file",
    "ready": "",
}


def default_bank_dir() -> Path:
    """`QOTD_BANK_DIR` if set, else the bank shipped inside the `content` package (never the
    current directory, so the command works from anywhere)."""
    env = os.environ.get("QOTD_BANK_DIR", "").strip()
    return Path(env) if env else Path(__file__).parent / "bank"


def display_path(path: Path) -> str:
    """The path as recorded in a bank: relative to the working folder when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


@dataclass
class FileReport:
    """What one source file yielded, or why it yielded nothing."""

    path: str
    format: str = ""
    found: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    bank_file: Path | None = None
    written: bool = False
    added: int = 0
    kept_from_bank: int = 0
    missing_from_source: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    held_back: list[HeldBack] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "found": self.found,
            **{s: self.counts.get(s, 0) for s in STATUSES},
            "skipped": [
                {
                    "at": f"{self.path}:{s.line}",
                    "line": s.line,
                    "end_line": s.end_line,
                    "reason": s.reason,
                    "text": s.preview,
                }
                for s in self.skipped
            ],
            "held_back": [
                {"at": f"{self.path}:{h.line}", "id": h.id, "status": h.status,
                 "reason": h.reason}
                for h in self.held_back
            ],
            "warnings": list(self.warnings),
        }


@dataclass
class ImportReport:
    files: list[FileReport]
    duplicate_groups: int

    @property
    def ok(self) -> bool:
        return all(f.error is None for f in self.files)

    def totals(self) -> dict[str, int]:
        good = [f for f in self.files if f.error is None]
        total = {"found": sum(f.found for f in good)}
        for s in STATUSES:
            total[s] = sum(f.counts.get(s, 0) for f in good)
        return total

    def as_json(self) -> dict[str, object]:
        return {
            "files": [f.as_json() for f in self.files if f.error is None],
            "total": self.totals(),
            "duplicate_groups": self.duplicate_groups,
        }


def _choose(text: str, path: Path, fmt: str | None) -> Importer:
    if fmt is not None:
        return by_name(fmt)
    importer = sniff(text, path.name)
    if importer is None:
        from content.importers.registry import NEEDS

        tried = "; ".join(
            f"{imp.name} needs {NEEDS.get(imp.name, 'its own shape')}" for imp in all_importers()
        )
        raise ParseError(
            str(path),
            1,
            f"no importer recognises this file (tried: {tried}); reshape it like one of "
            "them or pass --format to choose one",
        )
    return importer


def _merge(
    parsed: list[Question], existing: BankFile | None, overwrite: bool, report: FileReport
) -> list[Question]:
    """Source order, bank versions winning; questions gone from the source stay at the end.

    A bank topic that names a collection ("17 Common Interview Questions for MLOps", the
    document's title) was never a reviewer's choice but what an older importer read; the
    source's topic replaces it, so a plain re-import fixes banks made before.
    """
    old = {q.id: q for q in existing.questions} if existing else {}
    merged: list[Question] = []
    for q in parsed:
        if q.id in old and not overwrite:
            kept = old[q.id]
            if names_a_collection(kept.topic) and kept.topic != q.topic:
                kept = kept.model_copy(update={"topic": q.topic})
            merged.append(kept)
            report.kept_from_bank += 1
        else:
            merged.append(q)
            report.added += q.id not in old
    ids = {q.id for q in parsed}
    if existing:
        for q in existing.questions:
            if q.id not in ids:
                merged.append(q)
                report.missing_from_source.append(q.id)
    return merged


def _import_one(
    path: Path,
    fmt: str | None,
    bank: Bank,
    bank_dir: Path,
    overwrite: bool,
    claimed: dict[Path, str],
) -> tuple[FileReport, BankFile | None]:
    shown = display_path(path)
    report = FileReport(path=shown)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        report.error = f"{shown}:1: cannot read: {exc.__class__.__name__}: {exc}"
        return report, None
    try:
        importer = _choose(text, path, fmt)
        result = importer.parse(text, shown)
    except ParseError as exc:
        report.error = f"{shown}:{exc.line}: {exc.reason}"
        return report, None
    report.format = importer.name
    report.warnings = list(result.warnings)
    report.skipped = list(result.skipped)
    target = bank_path(bank_dir, shown)
    if target.name == OVERRIDES_NAME:
        report.error = f"{shown}:1: a source named like the overrides file; rename it"
        return report, None
    if target in claimed and claimed[target] != shown:
        report.error = f"{shown}:1: {target.name} is also the bank file of {claimed[target]}"
        return report, None
    existing = bank.file_for_source(target.stem)
    if existing and Path(existing.source).name != path.name:
        report.error = (
            f"{shown}:1: {target} already holds {existing.source}; rename one of the files"
        )
        return report, None
    claimed[target] = shown
    unique: dict[str, Question] = {}
    for q in result.questions:
        if q.id in unique:
            report.skipped.append(Skipped(
                q.source.line, q.source.line,
                f"same prompt as line {unique[q.id].source.line} (kept once)", q.prompt[:70],
            ))
        else:
            unique[q.id] = q
    # `found` counts exactly the questions this file writes, each once.
    report.found = len(unique)
    report.counts = dict(Counter(q.status for q in unique.values()))
    explained = {h.id: h for h in result.held_back}
    report.held_back = [
        explained.get(q.id) or HeldBack(q.id, q.source.line, q.status, _DEFAULT_HELD[q.status])
        for q in unique.values()
        if q.status != "ready"
    ]
    report.skipped.sort(key=lambda s: s.line)
    merged = _merge(list(unique.values()), existing, overwrite, report)
    report.bank_file = target
    source = existing.source if existing else shown
    return report, BankFile(
        path=target, source=source, format=importer.name, questions=tuple(merged)
    )


def _retopic(bank_file: BankFile, topic: Callable[[str], str]) -> BankFile:
    """`bank_file` with each question's topic replaced by `topic(old)` (others untouched)."""
    return dataclasses.replace(bank_file, questions=tuple(
        q if topic(q.topic) == q.topic else q.model_copy(update={"topic": topic(q.topic)})
        for q in bank_file.questions
    ))


def _subject(topic: str) -> str:
    return subject_of(topic) if names_a_collection(topic) else topic


def _unify_topics(
    produced: list[tuple[FileReport, BankFile]], bank: dict[Path, BankFile]
) -> list[tuple[FileReport, BankFile]]:
    """Give every topic of the files being written its one spelling across the bank.

    One subject is one topic (`content.topics.topic_key`), however each source spells it.
    The spelling is the one a bank file outside this import already uses (the
    lowest-sorting such file, first question first); a subject no other file holds takes
    the spelling of the lowest-sorting file being written. So importing one file never
    touches the others, and a re-import keeps every spelling: the bank is a fixed point.
    A topic that names a collection ("Common Interview Questions for MLOps", whichever
    importer read it) first becomes the subject it names (`subject_of`).
    """
    produced = [(report, _retopic(f, _subject)) for report, f in produced]
    writing = {f.path for _, f in produced}
    kept = (q.topic for p in sorted(bank) if p not in writing for q in bank[p].questions)
    incoming = (
        q.topic for _, f in sorted(produced, key=lambda r: r[1].path) for q in f.questions
    )
    spelling = choose_spellings(kept, incoming)
    return [
        (report, _retopic(f, lambda t: spelling.get(topic_key(t), t)))
        for report, f in produced
    ]


def import_files(
    paths: list[Path],
    bank_dir: Path,
    *,
    fmt: str | None = None,
    dry_run: bool = False,
    overwrite: bool = False,
) -> ImportReport:
    """Import every file; a file's bank file is written only if that file parsed cleanly.

    Raises BankError if the existing bank is invalid (fix it first: merging into a broken
    bank would hide the problem) and KeyError for an unknown `fmt`.
    """
    if fmt is not None:
        by_name(fmt)
    bank = load_bank(bank_dir)
    overrides = load_overrides(bank_dir / OVERRIDES_NAME)
    reports: list[FileReport] = []
    updated: dict[Path, BankFile] = {f.path: f for f in bank.files}
    claimed: dict[Path, str] = {}
    produced: list[tuple[FileReport, BankFile]] = []
    for path in paths:
        report, bank_file = _import_one(path, fmt, bank, bank_dir, overwrite, claimed)
        reports.append(report)
        if bank_file is not None:
            produced.append((report, bank_file))
    produced = _unify_topics(produced, updated)
    for report, bank_file in produced:
        previous = updated.get(bank_file.path)
        updated[bank_file.path] = bank_file
        if previous is not None and (previous.questions, previous.format) == (
            bank_file.questions,
            bank_file.format,
        ):
            continue  # nothing new: leave a hand-formatted file exactly as it is
        if not dry_run:
            text = dump_bank_file(bank_file.source, bank_file.format, bank_file.questions)
            current = bank_file.path.read_text("utf-8") if bank_file.path.is_file() else None
            if current != text:
                write_atomic(bank_file.path, text)
                report.written = True
                log.info("wrote %s", bank_file.path)
    everything = [q for f in updated.values() for q in f.questions]
    groups = group(everything, overrides)
    return ImportReport(files=reports, duplicate_groups=len(groups.duplicates()))
