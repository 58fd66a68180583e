"""Every question we can hold renders faithfully on Discord and on Slack.

The whole bank (content/bank) and every fixture an importer reads (tests/fixtures, so the
fixtures other tests add are covered as they come) go through the messages a channel
sees: the post, the private /answer and the reveal. Each is rendered by the adapters'
own renderers and checked: within the platform's limits; every code fence closed in
each piece; outside code no HTML tag or entity shown as typed, no `**` or `####` that
the platform would print, no heading Slack cannot show; and every identifier with
underscores (`snake_case_name`, `__getitem__`) still there, never turned into emphasis.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.discord import render as discord_render
from adapters.slack import blocks as slack_blocks
from bot.boundary import OutMessage
from bot.messages import Results, answer_reply, question_post, reveal
from content.bank import load_bank
from content.importers import ParseError, sniff
from content.model import Note, Question, SourceRef

ROOT = Path(__file__).resolve().parent.parent
BANK = ROOT / "content" / "bank"
FIXTURES = ROOT / "tests" / "fixtures"

OPEN = re.compile(r"^ {0,3}(`{3,})([^`]*)$")
CLOSE = re.compile(r"^ {0,3}(`{3,})\s*$")
HTML_TAG = re.compile(
    r"</?(?:b|strong|i|em|code|sub|sup|img|a|details|summary|p|ul|ol|li|br|pre|div|span|"
    r"table|tr|td|th|h[1-6]|kbd|del|s)(?:\s[^<>]*)?/?>", re.IGNORECASE)
ENTITY = re.compile(r"&(?:[a-z]+|#\d+|#x[0-9a-f]+);", re.IGNORECASE)
SNAKE = re.compile(r"(?<![\w\\])[A-Za-z0-9]+(?:_+[A-Za-z0-9]+)+(?![\w])")
DUNDER = re.compile(r"(?<![\w\\])__[A-Za-z][A-Za-z0-9_]*?__(?![\w])")


def bank_questions() -> list[Question]:
    return list(load_bank(BANK))


def fixture_questions() -> Iterator[tuple[str, Question]]:
    for path in sorted(p for p in FIXTURES.rglob("*") if p.is_file()):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (UnicodeDecodeError, OSError):
            continue
        importer = sniff(text, path.name)
        if importer is None:
            continue
        try:
            result = importer.parse(text, str(path.relative_to(ROOT)))
        except ParseError:
            continue  # the import tests say why; nothing here to render
        for q in result.questions:
            yield str(path.relative_to(FIXTURES)), q


def hard_questions() -> list[Question]:
    """Shapes the bank does not hold yet but a bank someone else wrote will: HTML left
    in, deep headings with links, dunders, tables of identifiers, a list as a note, hints,
    an answer longer than any one message."""
    source = SourceRef(file="synthetic.md", line=1)
    long_code = "\n".join(f"layer_{i} = nn.Linear(d_model, d_ff)  # __init__ {i}"
                           for i in range(300))
    return [
        Question.make(
            prompt="What does `Dataset.__getitem__` do?\n\n```python\nds[0]\n```\n\n"
                   "Explain __len__ too.",
            answer=("<details><summary><b>Answer</b></summary>\n\nIt returns <code>x_i</code>"
                    "<br>by index &amp; <i>lazily</i>. <img src=\"https://ex.com/a.png\" "
                    "alt=\"diagram\">\n\n</details>\n\n#### Deeper [docs](https://ex.com/a_b)"
                    "\n\n##### Even deeper **bold**\n\n| name | role |\n|---|---|\n"
                    "| `__len__` | size |\n| snake_case_name | __init__ |"),
            hints=("Think of `__getitem__` and ||spoilers||",),
            notes=(Note(label="Common Mistakes", text="- Calling __len__ directly\n- Eager IO"),
                   Note(label="Interview Tip", text="Say <b>lazy</b>.")),
            source=source),
        Question.make(prompt="Describe a model with many layers.",
                      answer=f"Intro with max_seq_len.\n\n```python\n{long_code}\n```\n\n"
                             + "Prose about the_end_of_it. " * 400,
                      source=SourceRef(file="synthetic.md", line=20)),
        Question.make(prompt="Pick the dunder", kind="choice",
                      choices=("`__init__`", "__repr__ of <b>x</b>", "snake_case"), correct="B",
                      explanation="**Why** <br> __repr__ is for developers.",
                      source=SourceRef(file="synthetic.md", line=40)),
    ]


def everything() -> list[tuple[str, Question]]:
    return ([("bank", q) for q in bank_questions()] + list(fixture_questions())
            + [("synthetic", q) for q in hard_questions()])


ALL = everything()


def messages(q: Question, other: Question) -> list[tuple[str, OutMessage]]:
    distribution = tuple((letter, 1) for letter in q.letters) or (("knew it", 2), ("not yet", 1))
    results = Results(answered=3, correct=2, distribution=distribution, first_correct="ana")
    return [
        ("post", question_post(12, q)),
        ("/answer", answer_reply(12, 7, q, [other]).message),
        ("reveal", reveal(12, q, results, [other])),
    ]


# ----------------------------------------------------------------------- checks on text


def code_free(text: str, fences: bool = True) -> str:
    """`text` without fenced blocks (when `fences`) and inline code spans."""
    lines: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        if fence is None:
            m = OPEN.match(line)
            if m and fences:
                fence = m.group(1)
                continue
            lines.append(line)
        else:
            m = CLOSE.match(line)
            if m and len(m.group(1)) >= len(fence):
                fence = None
    return re.sub(r"(`+).+?\1", " ", "\n".join(lines))


def balanced(text: str) -> bool:
    fence: str | None = None
    for line in text.split("\n"):
        if fence is None:
            m = OPEN.match(line)
            if m:
                fence = m.group(1)
        else:
            m = CLOSE.match(line)
            if m and len(m.group(1)) >= len(fence):
                fence = None
    return fence is None


def identifiers(q: Question, label: str) -> set[str]:
    """The identifiers of the parts of `q` that message `label` shows."""
    answer = [q.answer, q.explanation, *(n.text for n in q.notes)]
    if q.kind == "choice" and q.correct is not None:
        answer.append(q.choices[q.letters.index(q.correct)])
    texts = {"post": [q.prompt, *q.choices, *q.hints], "/answer": [q.prompt, *answer],
             "reveal": answer}[label.rsplit(" ", 1)[-1]]
    found: set[str] = set()
    for text in texts:
        found.update(m.group(0) for m in SNAKE.finditer(text))
        found.update(m.group(0) for m in DUNDER.finditer(text))
    return found


def problems_in_common(where: str, shown: str, plain: str) -> list[str]:
    """`shown`: the text a platform gets; `plain`: it with code removed and escapes
    undone, what a reader sees outside code."""
    out: list[str] = []
    if not balanced(shown):
        out.append(f"{where}: a code fence is left open")
    if m := HTML_TAG.search(plain):
        out.append(f"{where}: literal HTML {m.group(0)!r}")
    if m := re.search(r"^\s*#{4,}", plain, re.M):
        out.append(f"{where}: a literal heading mark {m.group(0)!r}")
    return out


# ----------------------------------------------------------------------- Discord


def discord_unescaped(text: str) -> str:
    return re.sub(r"\\([^A-Za-z0-9\s])", r"\1", text)


def discord_problems(label: str, message: OutMessage, q: Question) -> list[str]:
    pages = discord_render.embeds(message)
    out = [p for n, page in enumerate(pages) for p in discord_page_problems(f"{label} {n}", page)]
    shown = discord_unescaped("\n".join(page.get("description", "") for page in pages))
    for name in identifiers(q, label):
        if name not in shown:
            out.append(f"{label}: identifier {name!r} is not shown as written")
    return out


def discord_page_problems(where: str, page: dict[str, Any]) -> list[str]:
    """What is wrong with one message's embed (each page is a message of its own)."""
    out: list[str] = []
    size = len(page.get("title", "")) + len(page.get("description", "")) + len(
        page.get("footer", {}).get("text", "")) + sum(
        len(f["name"]) + len(f["value"]) for f in page.get("fields", []))
    if size > discord_render.MESSAGE_EMBEDS_TOTAL:
        out.append(f"{where}: {size} characters over the 6000 of a message's embeds")
    if len(page.get("title", "")) > discord_render.TITLE_LIMIT:
        out.append(f"{where}: title over {discord_render.TITLE_LIMIT}")
    if len(page.get("fields", [])) > discord_render.FIELDS_LIMIT:
        out.append(f"{where}: more than {discord_render.FIELDS_LIMIT} fields")
    for f in page.get("fields", []):
        if len(f["value"]) > discord_render.FIELD_VALUE_LIMIT or len(f["name"]) > 256:
            out.append(f"{where}: field {f['name']!r} over its limit")
        if "\n#" in "\n" + f["value"] or "```" in f["value"]:
            out.append(f"{where}: field {f['name']!r} holds a heading or code")
    description = page.get("description", "")
    if len(description) > discord_render.DESCRIPTION_LIMIT:
        out.append(f"{where}: description {len(description)} over 4096")
    plain = code_free(description)
    out.extend(problems_in_common(where, description, discord_unescaped(plain)))
    if m := ENTITY.search(discord_unescaped(plain)):
        out.append(f"{where}: an HTML entity shown as typed {m.group(0)!r}")
    for paragraph in re.split(r"\n\s*\n", plain):
        stars = len(re.findall(r"(?<!\\)\*\*", paragraph))
        if stars % 2:
            out.append(f"{where}: a `**` Discord would print: {paragraph[:120]!r}")
    # an underscore outside code that is not inside a word must be escaped, or
    # Discord may read it (and the one it pairs with) as emphasis or underline
    if m := re.search(r"(?<![A-Za-z0-9\\])_|(?<!\\)_(?![A-Za-z0-9])", plain):
        out.append(f"{where}: a bare `_` Discord may read as emphasis: "
                   f"{plain[max(0, m.start() - 40):m.end() + 40]!r}")
    return out


# ----------------------------------------------------------------------- Slack


def slack_texts(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, str, str]]:
    for i, block in enumerate(blocks):
        if block["type"] in ("section", "header"):
            yield f"block {i} {block['type']}", block["type"], block["text"]["text"]
        elif block["type"] == "context":
            for j, element in enumerate(block["elements"]):
                yield f"block {i} context {j}", "context", element["text"]


def slack_problems(label: str, message: OutMessage, q: Question) -> list[str]:
    blocks = slack_blocks.render_blocks(message)
    out = slack_block_problems(label, blocks)
    fallback = slack_blocks.fallback_text(message)
    if len(fallback) > 40_000 or not fallback.strip():
        out.append(f"{label}: fallback text of {len(fallback)} characters")
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    if slack_blocks.SHORTENED in sections:
        return out  # cut, visibly, to fit one Slack message: what is shown is checked
    shown = html.unescape("\n".join(sections))
    for name in identifiers(q, label):
        if name not in shown:
            out.append(f"{label}: identifier {name!r} is not shown as written")
    return out


def slack_block_problems(label: str, blocks: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    if len(blocks) > slack_blocks.MAX_BLOCKS:
        out.append(f"{label}: {len(blocks)} blocks, over {slack_blocks.MAX_BLOCKS}")
    if slack_blocks.text_size(blocks) > slack_blocks.TEXT_BUDGET:
        out.append(f"{label}: {slack_blocks.text_size(blocks)} characters of text, over "
                   f"{slack_blocks.TEXT_BUDGET}")
    for where, kind, text in slack_texts(blocks):
        where = f"{label} {where}"
        limit = slack_blocks.HEADER_LIMIT if kind == "header" else slack_blocks.SECTION_LIMIT
        if len(text) > limit:
            out.append(f"{where}: {len(text)} characters, over {limit}")
        raw_outside = code_free(text)
        if re.search(r"<(?![a-z]+://|mailto:)", raw_outside):
            out.append(f"{where}: a raw `<` that Slack would parse: {raw_outside[:120]!r}")
        plain = html.unescape(raw_outside)
        out.extend(problems_in_common(where, text, plain))
        if m := ENTITY.search(plain):
            out.append(f"{where}: an HTML entity shown as typed {m.group(0)!r}")
        if "**" in raw_outside:
            out.append(f"{where}: a literal `**`: {raw_outside[:120]!r}")
        if m := re.search(r"^\s*#{1,6}\s", plain, re.M):
            out.append(f"{where}: a heading Slack prints as typed {m.group(0)!r}")
        if m := re.search(r"(?<![\w`])__\w+__(?![\w`])", raw_outside):
            out.append(f"{where}: `{m.group(0)}` outside code, which Slack may restyle")
    return out


# ----------------------------------------------------------------------- the tests


def test_the_whole_bank_and_the_fixtures_are_covered() -> None:
    bank = [q for where, q in ALL if where == "bank"]
    fixtures = {where for where, _ in ALL if where != "bank"}
    assert len(bank) == 205
    assert len([q for where, q in ALL if where == "synthetic"]) == 3
    assert "mlops-general-cc0.md" in fixtures
    assert {"formats/bank_details.md", "formats/quiz.aiken", "formats/opentdb.json"} <= fixtures


def test_a_long_answer_is_split_on_discord_and_shortened_visibly_on_slack() -> None:
    long = hard_questions()[1]
    message = answer_reply(1, 1, long, []).message
    pages = discord_render.embeds(message)
    assert len(pages) == 8
    assert all(balanced(p["description"]) for p in pages)
    code_pages = [p["description"] for p in pages if "layer_" in p["description"]]
    assert len(code_pages) > 1 and all("```python\n" in text for text in code_pages)
    sections = [b["text"]["text"] for b in slack_blocks.render_blocks(message)
                if b["type"] == "section"]
    assert sections[-1] == slack_blocks.SHORTENED and all(balanced(t) for t in sections)


@pytest.mark.parametrize("platform", ["discord", "slack"])
def test_every_question_renders_faithfully(platform: str) -> None:
    check = discord_problems if platform == "discord" else slack_problems
    problems: list[str] = []
    for n, (where, q) in enumerate(ALL):
        other = ALL[(n + 1) % len(ALL)][1]
        for label, message in messages(q, other):
            problems.extend(check(f"{where} {q.source} {q.id} {label}", message, q))
    assert problems == [], "\n".join(problems[:40]) + f"\n({len(problems)} problems)"


def test_the_checks_catch_what_they_look_for() -> None:
    """The checks are not vacuous: rendered text with each fault is reported."""
    bad = ("<b>bold</b> &amp; x\n\n#### Deep\n\n**open and __init__ here\n\n"
           "```py\nx")
    found = "\n".join(discord_page_problems("d", {"description": bad}))
    for fault in ("literal HTML '<b>'", "literal heading mark", "a `**` Discord would print",
                  "a code fence is left open", "an HTML entity shown as typed '&amp;'",
                  "a bare `_` Discord may read as emphasis"):
        assert fault in found
    assert discord_page_problems("d", {"description": "# Title\n\n**ok** \\_\\_init\\_\\_"}) == []
    slack = [{"type": "section", "text": {"type": "mrkdwn", "text": "**b** ## x\n## Head __x__"}}]
    found = "\n".join(slack_block_problems("s", slack))
    for fault in ("a literal `**`", "a heading Slack prints as typed", "`__x__` outside code"):
        assert fault in found
    question = Question.make(prompt="What does __getitem__ do with snake_case?", answer="x",
                             source=ALL[0][1].source)
    assert identifiers(question, "post") == {"__getitem__", "snake_case"}
