"""`qotd import` and `qotd bank ...`: the reviewer's tools for the question bank.

The whole `qotd` parser is built from this module on every start, so the work itself
(importers, YAML, rapidfuzz) is imported only when a content command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from content.bank import Bank
    from content.model import Question

IMPORT_HELP = """\
Parse question documents (sniffing their format unless --format is given) and write
one bank file per source into the bank folder.

Each file is imported on its own: a file that cannot be read or parsed is reported on
stderr as file:line: reason and nothing from it is written, while the other files are
still imported (the exit status is then 1). Re-importing an unchanged source leaves its
bank file byte-identical. Questions already in the bank keep the bank's (reviewed)
version unless --overwrite; questions no longer in the source are reported and kept.

Nothing is left out silently: per file the report gives the questions found (exactly
those written), ready, needs_key and needs_answer, each held-back question with
file:line and what to fix, and every block of text that became no question with
file:line and why (before the first question, between questions, after the last,
article text, a duplicate, or unparseable). Try --dry-run first.
"""


def _bank_dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bank-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="bank folder (default: $QOTD_BANK_DIR, else the bank inside the content package)",
    )


def _bank_dir(args: argparse.Namespace) -> Path:
    from content.importing import default_bank_dir

    chosen: Path | None = args.bank_dir
    return chosen if chosen is not None else default_bank_dir()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = sub.add_parser(
        "import",
        help="import question documents into the bank",
        description=IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files to import")
    imp.add_argument("--format", dest="fmt", metavar="F", help="importer name (skip sniffing)")
    imp.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    imp.add_argument("--json", action="store_true", help="print one JSON object")
    imp.add_argument(
        "--overwrite", action="store_true", help="source versions replace reviewed bank versions"
    )
    _bank_dir_arg(imp)
    imp.set_defaults(func=cmd_import)

    bank = sub.add_parser("bank", help="inspect and check the question bank")
    bank_sub = bank.add_subparsers(dest="bank_command", required=True, metavar="ACTION")
    stats = bank_sub.add_parser("stats", help="counts by topic, difficulty, kind and status")
    _bank_dir_arg(stats)
    stats.set_defaults(func=cmd_stats)
    show = bank_sub.add_parser("show", help="one question in full")
    show.add_argument("id", metavar="ID")
    _bank_dir_arg(show)
    show.set_defaults(func=cmd_show)
    validate = bank_sub.add_parser("validate", help="check every bank file (file:line errors)")
    _bank_dir_arg(validate)
    validate.set_defaults(func=cmd_validate)
    dups = bank_sub.add_parser("duplicates", help="near-duplicate groups across sources")
    _bank_dir_arg(dups)
    dups.set_defaults(func=cmd_duplicates)


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _load(args: argparse.Namespace) -> Bank | None:
    """The bank, or None after printing every problem (file:line) to stderr."""
    from content.bank import BankError, load_bank

    try:
        return load_bank(_bank_dir(args))
    except BankError as exc:
        for problem in exc.problems:
            _err(problem)
        return None


def cmd_import(args: argparse.Namespace) -> int:
    from content.bank import BankError
    from content.dedup import OverridesError
    from content.importing import STATUSES, display_path, import_files

    bank_dir = _bank_dir(args)
    if args.fmt is not None:
        from content.importers import by_name

        try:
            by_name(args.fmt)
        except KeyError as exc:
            _err(f"qotd import: {exc.args[0]}")
            return 2
    try:
        report = import_files(
            list(args.paths),
            bank_dir,
            fmt=args.fmt,
            dry_run=args.dry_run,
            overwrite=args.overwrite,
        )
    except BankError as exc:
        _err(f"qotd import: the bank in {bank_dir} has problems; fix them first:")
        for problem in exc.problems:
            _err(problem)
        return 1
    except OverridesError as exc:
        _err(str(exc))
        return 1
    for f in report.files:
        if f.error:
            _err(f.error)
        for warning in f.warnings:
            _err(f"warning: {warning}")
    if args.json:
        print(json.dumps(report.as_json(), sort_keys=False))
        return 0 if report.ok else 1
    for f in report.files:
        if f.error:
            print(f"{f.path}: FAILED, nothing written (see above)")
            continue
        counts = ", ".join(f"{s} {f.counts.get(s, 0)}" for s in STATUSES)
        print(f"{f.path} ({f.format}): found {f.found}, {counts}")
        if args.dry_run:
            action = "dry run: nothing written"
        else:
            shown = display_path(f.bank_file) if f.bank_file else "bank file"
            action = f"wrote {shown}" if f.written else f"{shown} unchanged"
        print(f"  {action} (new {f.added}, kept from bank {f.kept_from_bank})")
        for held in f.held_back:
            print(f"  held back {f.path}:{held.line} [{held.status}]: {held.reason}")
        for skip in f.skipped:
            lines = f"{skip.line}" if skip.end_line == skip.line else f"{skip.line}-{skip.end_line}"
            shown_text = f": {skip.preview!r}" if skip.preview else ""
            print(f"  skipped {f.path}:{lines}: {skip.reason}{shown_text}")
        if f.missing_from_source:
            ids = ", ".join(f.missing_from_source)
            print(f"  no longer in the source (kept in the bank): {ids}")
    total = report.totals()
    counts = ", ".join(f"{s} {total[s]}" for s in STATUSES)
    print(f"total: found {total['found']}, {counts}")
    print(f"duplicate groups (bank + these files): {report.duplicate_groups}")
    return 0 if report.ok else 1


def _counts(title: str, counter: Counter[str]) -> list[str]:
    lines = [f"{title}:"]
    for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {key:<28} {n}")
    return lines


def cmd_stats(args: argparse.Namespace) -> int:
    bank = _load(args)
    if bank is None:
        return 1
    qs = list(bank)
    lines = [f"{len(qs)} questions in {len(bank.files)} files"]
    lines += _counts("status", Counter(q.status for q in qs))
    lines += _counts("kind", Counter(q.kind for q in qs))
    lines += _counts("difficulty", Counter(q.difficulty or "(none)" for q in qs))
    lines += _counts("topic", Counter(q.topic or "(none)" for q in qs))
    print("\n".join(lines))
    return 0


def render_question(q: Question) -> str:
    """A question laid out for a reviewer's terminal."""
    out = [f"{q.id}  [{q.status}]  {q.source}", "", q.prompt]
    if q.kind == "choice":
        out.append("")
        for letter, choice in zip(q.letters, q.choices, strict=True):
            mark = "*" if letter == q.correct else " "
            out.append(f" {mark}{letter}) {choice}")
    if q.answer:
        out += ["", "Answer:", q.answer]
    if q.explanation:
        out += ["", "Explanation:", q.explanation]
    for i, hint in enumerate(q.hints, 1):
        out.append(f"Hint {i}: {hint}")
    for note in q.notes:
        out += ["", f"{note.label}:", note.text]
    meta = [
        f"difficulty: {q.difficulty or '-'}",
        f"topic: {q.topic or '-'}",
        f"tags: {', '.join(q.tags) or '-'}",
    ]
    out += ["", " | ".join(meta)]
    return "\n".join(out)


def cmd_show(args: argparse.Namespace) -> int:
    bank = _load(args)
    if bank is None:
        return 1
    q = bank.get(args.id)
    if q is None:
        _err(f"no question with id {args.id!r} in {_bank_dir(args)} (ids look like q1a2b3c4d5e6)")
        return 1
    print(render_question(q))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from content.bank import OVERRIDES_NAME
    from content.dedup import OverridesError, load_overrides

    bank = _load(args)
    if bank is None:
        return 1
    path = _bank_dir(args) / OVERRIDES_NAME
    try:
        overrides = load_overrides(path)
    except OverridesError as exc:
        _err(str(exc))
        return 1
    unknown = sorted(
        {i for ids in overrides.merge + overrides.split for i in ids if bank.get(i) is None}
    )
    if unknown:
        for qid in unknown:
            _err(f"{path}:1: unknown question id {qid}")
        return 1
    status = Counter(q.status for q in bank)
    summary = ", ".join(f"{s} {status.get(s, 0)}" for s in ("ready", "needs_key", "needs_answer"))
    print(f"bank OK: {len(bank)} questions in {len(bank.files)} files ({summary})")
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    from content.bank import OVERRIDES_NAME
    from content.dedup import OverridesError, group, load_overrides

    bank = _load(args)
    if bank is None:
        return 1
    try:
        overrides = load_overrides(_bank_dir(args) / OVERRIDES_NAME)
    except OverridesError as exc:
        _err(str(exc))
        return 1
    groups = group(list(bank), overrides).duplicates()
    for g in groups:
        canonical = bank.get(g.canonical)
        assert canonical is not None
        print(f"{canonical.id}  {canonical.prompt}  ({canonical.source})")
        for alt_id in g.members[1:]:
            alt = bank.get(alt_id)
            assert alt is not None
            print(f"    = {alt.id}  {alt.prompt}  ({alt.source})")
    print(f"{len(groups)} duplicate groups among {len(bank)} questions")
    return 0
