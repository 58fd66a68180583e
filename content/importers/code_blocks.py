"""Finding code that a web page lost its fences for, naming its language, fencing it again.

Pages copied out of a browser keep a code sample's lines and indentation but drop the
`<pre>` around it, so the sample runs straight into the prose. A chat client shows an
unfenced sample as prose (Python comments even become Markdown headings), so importers
put the fences back. Everything here works line by line on plain strings, is pure, and
never raises on any input, which keeps the importers' "only ParseError" promise.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Sequence

_PY_START = re.compile(
    r"^(?:import\s+\w|from\s+[\w.]+\s+import\s|def\s+\w|class\s+\w|async\s+(?:def|with|for)\s"
    r"|@\w|for\s.+\sin\s.+:|while\s.+:|with\s.+:|if\s.+:|elif\s.+:|else:|try:|except\b"
    r"|finally:|return\b|raise\b|assert\s|yield\b|print\(|await\s)"
)
_ASSIGN = re.compile(r"^[A-Za-z_][\w.]*(?:\[[^\]]*\])?(?:\s*,\s*[A-Za-z_]\w*)*\s*[-+*/%]?=(?!=)")
_CALL = re.compile(r"^[A-Za-z_][\w.]*\(.*[(),]\s*(?:#.*)?$")
_BRACKET = re.compile(r"^[\[\]{}()]+[,;]?$")
_YAML_KEY = re.compile(r"^(?:-\s+)?[A-Za-z_][\w.-]*:(?:\s+\S.*)?$")
_YAML_ITEM = re.compile(r"^-\s+\S")
_PROTO_OPEN = re.compile(r"^\w+\s*[{\[]$")
_DOCKER = re.compile(
    r"^(?:FROM|RUN|COPY|ADD|WORKDIR|CMD|ENTRYPOINT|ENV|EXPOSE|ARG|LABEL|USER|VOLUME"
    r"|HEALTHCHECK)\s+\S"
)
_SHELL = re.compile(
    r"^(?:\$\s+)?(?:git|dvc|pip|pip3|python|python3|docker|docker-compose|kubectl|helm|curl"
    r"|wget|export|cd|mkdir|ls|echo|conda|mlflow|bentoml|aws|gcloud|az|terraform|make|npm"
    r"|sudo|apt-get|chmod|ssh|airflow|kfp|feast|dbt|uvicorn|gunicorn|torchrun|deepspeed"
    r"|accelerate|nvidia-smi|bash|sh|source|tar|cp|mv|rm|kubeflow|seldon|bentoctl)(?:\s|$)"
)
_SQL = re.compile(r"^(?:SELECT|INSERT|UPDATE|DELETE|CREATE|WITH|ALTER|DROP)\s", re.IGNORECASE)
_TEXT_START = re.compile(r"^[A-Z][^\s=(){}\[\]]*(?:\s|$)")
_PY_CONSTANT = re.compile(r"^(?:True|False|None)\b")
_CODE_CHARS = re.compile(r"[=(){}\[\]]|\s#|^#")
_BULLET_GLYPHS = "•◦‣⁃∙·▪▫■□●○◆◇♦❖➢➤►▶▸▹✓✔☑"
_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\.ya?ml\b|\byaml\b", re.IGNORECASE), "yaml"),
    (re.compile(r"\.json\b|\bjson\b", re.IGNORECASE), "json"),
    (re.compile(r"\.pbtxt\b|\.textproto\b"), "protobuf"),
    (re.compile(r"\bDockerfile\b"), "dockerfile"),
    (re.compile(r"\.sh\b|\bbash\b|\bshell\b", re.IGNORECASE), "shell"),
    (re.compile(r"\.py\b|\bpython\b", re.IGNORECASE), "python"),
)


def is_bullet(line: str) -> bool:
    """A list line as pages render them: an indented glyph or an indented `1.`."""
    s = line.strip()
    if not s:
        return False
    if s[0] in _BULLET_GLYPHS:
        return True
    return line[:1].isspace() and re.match(r"^\d{1,2}[.)]\s+\S", s) is not None


def is_code_start(line: str) -> bool:
    """Whether a line can open a code sample: a comment, a statement, a config key..."""
    s = line.strip()
    if not s or is_bullet(line):
        return False
    if s.startswith("#"):
        return len(s) == 1 or not s[1].isdigit()
    return (
        any(
            p.match(s) is not None
            for p in (_PY_START, _ASSIGN, _CALL, _BRACKET, _PROTO_OPEN, _DOCKER, _SHELL)
        )
        or (_YAML_KEY.match(s) is not None and s[0].islower())
        or _SQL.match(s) is not None
    )


def is_text_line(line: str) -> bool:
    """Whether a line reads as prose or a heading rather than as more code.

    Page text is never indented and starts with a capitalised word; code that starts that
    way (a class instantiation, a constant) carries `=`, brackets or a trailing colon.
    """
    if not line.strip() or line[:1].isspace() or is_bullet(line):
        return False
    s = line.strip()
    if _TEXT_START.match(s) is None or _PY_CONSTANT.match(s) or _DOCKER.match(s):
        return False
    if _SQL.match(s) and s.split()[0].isupper():
        return False
    if s.endswith((":", ",", "(", "[", "{", "\\")) and len(s.split()) < 3:
        return False
    return " = " not in s


def code_run_end(lines: Sequence[str], start: int) -> int:
    """The end (exclusive) of the code sample that opens at `lines[start]`.

    The sample goes on through blank lines and anything that is not prose, a heading or a
    bullet; trailing blank lines are left out.
    """
    last = start
    i = start + 1
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if is_bullet(line) or is_text_line(line):
            break
        last = i
        i += 1
    return last + 1


def _body(lines: Sequence[str]) -> list[str]:
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def _is_json(lines: Sequence[str]) -> bool:
    body = _body(lines)
    if not body or body[0][0] not in "[{":
        return False
    try:
        return isinstance(json.loads("\n".join(body)), (dict, list))
    except ValueError:
        return False


def _python_signal(s: str) -> bool:
    return bool(
        _PY_START.match(s)
        or _ASSIGN.match(s)
        or _CALL.match(s)
        or _BRACKET.match(s)
        or s.endswith(("(", ",", "[", "{"))
        or re.search(r"\w\(.*\)", s)
    )


def detect_language(lines: Sequence[str]) -> str | None:
    """The language of one code chunk, or None when it holds only comments.

    Structure decides (JSON that parses, Dockerfile instructions, `name {` blocks, shell
    commands, `key: value` lines, Python statements); a file name or word in a comment
    ("# sweep_config.yaml") only breaks a tie.
    """
    body = _body(lines)
    if not body:
        return None
    if _is_json(lines):
        return "json"
    n = len(body)
    if sum(1 for s in body if _DOCKER.match(s)) * 2 >= n:
        return "dockerfile"
    if any(_PROTO_OPEN.match(s) for s in body) and not any(
        "=" in s or "(" in s or s.endswith(":") for s in body
    ):
        return "protobuf"
    if sum(1 for s in body if _SHELL.match(s)) * 2 >= n:
        return "shell"
    if _SQL.match(body[0]) and body[0].split()[0].isupper():
        return "sql"
    yaml_like = sum(
        1
        for s in body
        if (_YAML_KEY.match(s) or _YAML_ITEM.match(s)) and "=" not in s.split(":", 1)[0]
    )
    python = sum(1 for s in body if _python_signal(s) and not _YAML_KEY.match(s))
    if yaml_like * 5 >= n * 4 and python == 0:
        return "yaml"
    if python:
        return "python"
    comments = " ".join(ln for ln in lines if ln.strip().startswith("#"))
    for pattern, language in _HINTS:
        if pattern.search(comments):
            return language
    return "yaml" if yaml_like * 2 > n else "text"


def _chunks(lines: Sequence[str]) -> list[list[str]]:
    """Split at blank lines, keeping the blank lines with the chunk they follow."""
    chunks: list[list[str]] = [[]]
    for line in lines:
        if not line.strip():
            chunks[-1].append("")
        else:
            if chunks[-1] and not chunks[-1][-1]:
                chunks.append([])
            chunks[-1].append(line)
    return [c for c in chunks if any(x.strip() for x in c)]


def split_by_language(lines: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Groups of consecutive chunks in one language, in order.

    One sample on a page can hold two files (a YAML config, then the Python that reads
    it); each gets its own fence. Comment-only chunks join the group before them.
    """
    groups: list[tuple[str, list[str]]] = []
    pending: list[str] = []
    for chunk in _chunks(lines):
        language = detect_language(chunk)
        if language is None:
            if groups:
                groups[-1][1].extend(chunk)
            else:
                pending.extend(chunk)
            continue
        if groups and groups[-1][0] == language:
            groups[-1][1].extend(chunk)
        else:
            groups.append((language, pending + chunk))
        pending = []
    if pending:
        groups.append(("text", pending))
    return [(lang, _trim(body)) for lang, body in groups]


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def fence(lines: Sequence[str], language: str | None = None) -> str:
    """One fenced block, dedented, with a fence longer than any backtick run inside."""
    text = textwrap.dedent("\n".join(ln.rstrip() for ln in lines)).strip("\n")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    tag = language if language and language != "text" else ""
    return f"{ticks}{tag}\n{text}\n{ticks}"


def fence_code(lines: Sequence[str]) -> str:
    """A code sample as one or more fenced blocks, each tagged with its language."""
    return "\n\n".join(fence(body, lang) for lang, body in split_by_language(lines) if body)


def looks_like_code(line: str) -> bool:
    """Any sign of code in a line (brackets, `=`, a comment): prose rarely has these."""
    return _CODE_CHARS.search(line.strip()) is not None
