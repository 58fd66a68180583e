"""The pieces the Markdown importer is built from: prompt lines, HTML, invisible characters."""

from __future__ import annotations

import pytest

from content.importers.md_answer import finish_answer
from content.importers.md_html import html_to_markdown
from content.importers.md_prompt import asks, read_prompt, topic_name
from content.importers.textutil import normalize_invisible
from content.model import Note


@pytest.mark.parametrize(
    ("raw", "prompt", "difficulty", "tags"),
    [
        ("What is X? [[src](https://a.example/x)]", "What is X?", None, ()),
        ("What is X? (Big Tech)", "What is X?", None, ("big tech",)),
        ("What is X? (Senior)", "What is X?", "hard", ()),
        ("What is X? - Easy", "What is X?", "easy", ()),
        ("What is X?\u200d🚀", "What is X?", "hard", ()),
        ("What is X? ⭐\ufe0f", "What is X?", "medium", ()),
        ("**1)** What is X?", "What is X?", None, ()),
        ("12) What is X?", "What is X?", None, ()),
        ("Q12. What is X?", "What is X?", None, ()),
        ("Question 12: What is X?", "What is X?", None, ()),
        ("What\u00a0is X?\u200b", "What is X?", None, ()),
    ],
)
def test_prompt_decorations_come_off(
    raw: str, prompt: str, difficulty: str | None, tags: tuple[str, ...]
) -> None:
    read = read_prompt(raw)
    assert (read.text, read.difficulty, read.tags) == (prompt, difficulty, tags)


def test_source_link_suffix_becomes_a_note() -> None:
    assert read_prompt("What is X? [[src](https://a.example/x)]").notes == (
        Note(label="Source", text="[src](https://a.example/x)"),
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Define overfitting.", True),
        ("Explain the bias-variance tradeoff", True),
        ("True or False? Dropout is used at inference.", True),
        ("Q7", True),
        ("List of resources", False),
        ("Introduction", False),
        ("[What is X?](#what-is-x)", False),  # a contents entry
        ("Describe", False),  # one word names nothing
    ],
)
def test_what_asks(line: str, expected: bool) -> None:
    assert asks(line) is expected


def test_numbered_lines_do_not_take_imperatives() -> None:
    # "1. Define the requirements" inside an answer is a step, not a question.
    assert asks("Define the requirements", imperatives=False) is False


@pytest.mark.parametrize(
    ("title", "topic"),
    [
        ("Networking & Security", "Networking and Security"),
        ("Docker Interview Questions", "Docker"),
        ("50 Common Interview Questions", ""),
        ("Interview Questions", ""),
        ("Table of Contents", ""),
        ("Why learn Kubernetes?", ""),
        ("1. Core  Java", "Core Java"),
        ("What is a Pod?", ""),
    ],
)
def test_topic_names(title: str, topic: str) -> None:
    assert topic_name(title) == topic


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<b>a</b> <strong>b</strong> <i>c</i> <em>d</em>", "**a** **b** *c* *d*"),
        ("x<br>y<br/>z", "x\ny\nz"),
        ("<code>a &lt; b</code>", "`a < b`"),
        ("`<b>kept</b>` in code", "`<b>kept</b>` in code"),
        ("H<sub>2</sub>O, r<sup>2</sup>", "H2O, r^2"),
        ('<a href="https://a.example">docs</a>', "[docs](https://a.example)"),
        ('<img src="https://a.example/p.png" alt="a plot">', "[a plot](https://a.example/p.png)"),
        ("![](https://a.example/p.png)", "[image](https://a.example/p.png)"),
        ("<ol><li>one</li><li>two</li></ol>", "1. one\n2. two"),
        ("List<T> and <https://a.example>", "List<T> and <https://a.example>"),
        ("a <!-- hidden --> b &amp; c&nbsp;d", "a  b & c d"),
        ("<pre><code>x = 1</code></pre>", "```\nx = 1\n```"),
    ],
)
def test_html_becomes_markdown(html: str, markdown: str) -> None:
    assert html_to_markdown(html).strip("\n") == markdown


def test_html_table_cells_keep_their_row() -> None:
    assert html_to_markdown("| a<br>b | c |") == "| a b | c |"


@pytest.mark.parametrize(
    ("lines", "answer", "placeholder"),
    [
        (["**Answer:** Because."], "Because.", None),
        (["Answer: Because."], "Because.", None),
        (["A: Because."], "Because.", None),
        (["A-B testing splits traffic."], "A-B testing splits traffic.", None),
        (["#### Answer", "", "Because."], "Because.", None),
        (["TODO"], "TODO", "the answer is a placeholder ('TODO'); write the answer"),
        (["<p></p>"], "", "the answer is only HTML tags or markup; write the answer"),
        (["[Back to top](#contents)"], "",
         "the answer is only a link back into the document; write the answer"),
        (["Difficulty: hard", "", "Because."], "Because.", None),
    ],
)
def test_answer_labels_and_placeholders(
    lines: list[str], answer: str, placeholder: str | None
) -> None:
    got = finish_answer([(line, False) for line in lines])
    assert (got.text, got.placeholder) == (answer, placeholder)


def test_code_in_answers_is_never_converted() -> None:
    lines = [("```html", True), ("<b>x</b> &amp;", True), ("```", True)]
    assert finish_answer(lines).text == "```html\n<b>x</b> &amp;\n```"


def test_invisible_characters_are_removed_but_emoji_sequences_kept() -> None:
    assert normalize_invisible("\ufeffa\u200bb\u200d🚀 c\u00a0d\ufe0f 👩\u200d💻") == (
        "ab🚀 c d 👩\u200d💻"
    )


def test_a_link_inside_the_sentence_stays_in_the_prompt() -> None:
    read = read_prompt("Explain the [CAP theorem](https://a.example/cap)")
    assert (read.text, read.notes) == ("Explain the [CAP theorem](https://a.example/cap)", ())
