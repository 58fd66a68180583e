"""Bank files: the reviewed, human-edited source of truth (`content/bank/<source>.yaml`).

People edit these files by hand, so loading reports every problem at once as `file:line:
reason` (line numbers come from PyYAML's node marks), and writing is deterministic and
atomic so that a re-import of an unchanged source leaves the file byte-identical and a
crash never leaves half a file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from content.model import Question

SCHEMA = 1
OVERRIDES_NAME = "overrides.yaml"
HEADER_KEYS = ("source", "format", "schema", "questions")
# Field order in a written file: what a reviewer reads first comes first.
FIELD_ORDER = (
    "id",
    "prompt",
    "kind",
    "choices",
    "correct",
    "answer",
    "explanation",
    "difficulty",
    "topic",
    "tags",
    "hints",
    "notes",
    "status",
    "source",
)
_ALWAYS_WRITTEN = frozenset({"id", "prompt", "status", "source"})


class BankError(Exception):
    """Every problem found in a bank, each as `file:line: reason`, so all can be fixed at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class BankFile:
    """One source's questions as they stand in the bank."""

    path: Path
    source: str
    format: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Bank:
    """All bank files; ids are unique across them (load_bank refuses otherwise)."""

    files: tuple[BankFile, ...] = ()
    _by_id: dict[str, Question] = field(default_factory=dict, repr=False)

    @staticmethod
    def of(files: list[BankFile]) -> Bank:
        by_id = {q.id: q for f in files for q in f.questions}
        return Bank(files=tuple(files), _by_id=by_id)

    def __iter__(self) -> Iterator[Question]:
        for f in self.files:
            yield from f.questions

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, qid: str) -> Question | None:
        return self._by_id.get(qid)

    def file_for_source(self, stem: str) -> BankFile | None:
        for f in self.files:
            if f.path.stem == stem:
                return f
        return None


def bank_path(directory: Path, source: str) -> Path:
    """The bank file of a source document: its file stem with `.yaml`."""
    return directory / f"{Path(source).stem}.yaml"


# --------------------------------------------------------------------------- writing


class _Dumper(yaml.SafeDumper):
    """Multi-line text as `|` block scalars so that diffs of answers read line by line."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def question_to_dict(q: Question) -> dict[str, Any]:
    """The question as a plain mapping, defaults left out so files stay short."""
    defaults = {name: f.get_default() for name, f in Question.model_fields.items()}
    raw = q.model_dump(mode="python")
    out: dict[str, Any] = {}
    for name in FIELD_ORDER:
        value = raw[name]
        if name not in _ALWAYS_WRITTEN and (value == defaults.get(name) or value in ("", ())):
            continue
        if name == "source":
            value = str(q.source)
        elif name == "notes":
            value = [{"label": n.label, "text": n.text} for n in q.notes]
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def dump_bank_file(source: str, fmt: str, questions: list[Question] | tuple[Question, ...]) -> str:
    """The file text: deterministic for the same input (fixed key order, no wrapping)."""
    doc = {
        "source": source,
        "format": fmt,
        "schema": SCHEMA,
        "questions": [question_to_dict(q) for q in questions],
    }
    text: str = yaml.dump(
        doc,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000,
        default_flow_style=False,
    )
    return text


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and `os.replace`, so readers never see
    a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, mode)  # mkstemp's 0600 would hide a committed file from the bot's user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bank_file(
    path: Path, source: str, fmt: str, questions: list[Question] | tuple[Question, ...]
) -> bool:
    """Write the file unless it already holds exactly this text; True if it was written."""
    text = dump_bank_file(source, fmt, questions)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_atomic(path, text)
    return True


# --------------------------------------------------------------------------- loading


def _parse_source(value: Any) -> Any:
    """`source` is written as `file:line` for readability; a mapping is accepted too."""
    if isinstance(value, str) and ":" in value:
        file, _, line = value.rpartition(":")
        if line.strip().isdigit():
            return {"file": file, "line": int(line)}
    return value


def _duplicate_keys(node: yaml.MappingNode, where: str) -> list[str]:
    """PyYAML silently keeps the last of two equal keys; a hand edit deserves to know."""
    seen: set[str] = set()
    problems = []
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode):
            if key.value in seen:
                problems.append(f"{where}:{key.start_mark.line + 1}: duplicate key {key.value!r}")
            seen.add(key.value)
    return problems


def _key_lines(node: yaml.MappingNode) -> dict[str, int]:
    return {
        k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)
    }


def _describe(err: ErrorDetails) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    return f"{loc}: {msg}" if loc else msg


def _load_questions(
    name: str, qnode: yaml.Node, data: Any, problems: list[str]
) -> list[tuple[Question, int]]:
    if not isinstance(qnode, yaml.SequenceNode) or not isinstance(data, list):
        problems.append(f"{name}:{qnode.start_mark.line + 1}: questions must be a list")
        return []
    out: list[tuple[Question, int]] = []
    for item_node, item in zip(qnode.value, data, strict=True):
        line = item_node.start_mark.line + 1
        if not isinstance(item_node, yaml.MappingNode) or not isinstance(item, dict):
            problems.append(f"{name}:{line}: a question must be a mapping of fields")
            continue
        problems.extend(_duplicate_keys(item_node, name))
        lines = _key_lines(item_node)
        fields = dict(item)
        if "source" in fields:
            fields["source"] = _parse_source(fields["source"])
        try:
            out.append((Question.model_validate(fields), line))
        except ValidationError as exc:
            for err in exc.errors():
                first = str(err["loc"][0]) if err["loc"] else ""
                problems.append(f"{name}:{lines.get(first, line)}: {_describe(err)}")
    return out


def load_bank_file(path: Path, problems: list[str]) -> tuple[BankFile, list[int]] | None:
    """Parse one file, appending its problems; None if it cannot be read at all."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{name}:1: cannot read: {exc}")
        return None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = exc.problem or str(exc).splitlines()[0]  # one line per problem
        problems.append(f"{name}:{line}: YAML syntax error: {reason}")
        return None
    finally:
        loader.dispose()
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        problems.append(f"{name}:1: expected a mapping with source, format, schema, questions")
        return None
    problems.extend(_duplicate_keys(root, name))
    header_lines = _key_lines(root)
    for key in data:
        if key not in HEADER_KEYS:
            problems.append(f"{name}:{header_lines.get(str(key), 1)}: unknown field {key!r}")
    for key in HEADER_KEYS:
        if key not in data:
            problems.append(f"{name}:1: missing {key!r}")
    if data.get("schema", SCHEMA) != SCHEMA:
        problems.append(
            f"{name}:{header_lines.get('schema', 1)}: schema {data['schema']!r} is not "
            f"supported (this version reads schema {SCHEMA})"
        )
    source, fmt = data.get("source", ""), data.get("format", "")
    for key, value in (("source", source), ("format", fmt)):
        if not isinstance(value, str):
            problems.append(f"{name}:{header_lines.get(key, 1)}: {key} must be text")
    qnode = next((v for k, v in root.value if getattr(k, "value", None) == "questions"), None)
    loaded = _load_questions(name, qnode, data.get("questions"), problems) if qnode else []
    bank_file = BankFile(
        path=path, source=str(source), format=str(fmt), questions=tuple(q for q, _ in loaded)
    )
    return bank_file, [line for _, line in loaded]


def bank_files(directory: Path) -> list[Path]:
    """The question files of a bank folder (the overrides file is not one)."""
    if not directory.is_dir():
        return []
    return sorted(
        p for p in directory.glob("*.yaml") if p.name != OVERRIDES_NAME and not p.name.startswith(".")
    )


def load_bank(directory: Path) -> Bank:
    """Every file of the bank, validated; raises BankError listing all problems found."""
    problems: list[str] = []
    files: list[BankFile] = []
    first_seen: dict[str, str] = {}
    for path in bank_files(directory):
        loaded = load_bank_file(path, problems)
        if loaded is None:
            continue
        bank_file, lines = loaded
        for q, line in zip(bank_file.questions, lines, strict=True):
            where = f"{path}:{line}"
            if q.id in first_seen:
                problems.append(f"{where}: duplicate id {q.id} (first at {first_seen[q.id]})")
            else:
                first_seen[q.id] = where
        files.append(bank_file)
    if problems:
        raise BankError(problems)
    return Bank.of(files)

