"""Rendering: chunks within limits, fences never cut open, Slack mrkdwn, mentions that never ping."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.render import (
    DISCORD_CONTENT,
    ELLIPSIS,
    ZWSP,
    neutralize_mentions,
    split_markdown,
    tables_for_chat,
    to_slack_mrkdwn,
    truncate,
)

OPEN = re.compile(r"^ {0,3}(`{3,})([^`]*)$")
CLOSE = re.compile(r"^ {0,3}(`{3,})\s*$")


def fences_balanced(chunk: str) -> bool:
    """Same rule as CommonMark: a closer is a bare fence at least as long as the opener."""
    fence: str | None = None
    for line in chunk.split("\n"):
        if fence is None:
            m = OPEN.match(line)
            if m:
                fence = m.group(1)
        else:
            m = CLOSE.match(line)
            if m and len(m.group(1)) >= len(fence):
                fence = None
    return fence is None


def content(text: str) -> str:
    """Non-whitespace characters outside fence lines (re-opened fences are added text)."""
    lines = [ln for ln in text.split("\n") if not (OPEN.match(ln) or CLOSE.match(ln))]
    return re.sub(r"\s+", "", "".join(lines))


# ------------------------------------------------------------------ split_markdown

words = st.text(alphabet="abcxyz*_#<>@`.-", min_size=1, max_size=12)
# A line that starts with ``` is a fence: code blocks come from the `code` strategy.
line = st.lists(words, min_size=1, max_size=30).map(" ".join).filter(
    lambda ln: not ln.startswith("```")
)
paragraph = st.lists(line, min_size=1, max_size=6).map("\n".join)
code = st.tuples(
    st.sampled_from(["", "python", "yaml", "sh"]),
    st.lists(st.text(alphabet="abc xyz(){}=<>:", max_size=120), max_size=30),
).map(lambda t: f"```{t[0]}\n" + "\n".join(t[1]) + "\n```")
document = st.lists(st.one_of(paragraph, code), min_size=1, max_size=8).map("\n\n".join)


@settings(max_examples=150, deadline=None)
@given(document, st.integers(min_value=30, max_value=400))
def test_split_properties(text: str, limit: int) -> None:
    chunks = split_markdown(text, limit)
    assert all(len(c) <= limit for c in chunks)
    assert all(fences_balanced(c) for c in chunks)
    assert content("\n".join(chunks)) == content(text)


def test_short_text_is_one_chunk() -> None:
    assert split_markdown("Hello **world**", DISCORD_CONTENT) == ["Hello **world**"]


def test_splits_between_paragraphs_first() -> None:
    paras = ["alpha " * 30, "beta " * 30, "gamma " * 30]
    chunks = split_markdown("\n\n".join(p.strip() for p in paras), 200)
    assert [c.split()[0] for c in chunks] == ["alpha", "beta", "gamma"]


def test_long_code_block_is_reopened_with_its_language() -> None:
    body = "\n".join(f"x_{i} = {i}  # comment" for i in range(200))
    chunks = split_markdown(f"Intro.\n\n```python\n{body}\n```\n\nOutro.", 500)
    code_chunks = [c for c in chunks if "x_" in c]
    assert len(code_chunks) > 1
    for c in code_chunks:
        assert c.startswith("```python\n") or "\n```python\n" in c
        assert c.endswith("```") or c.endswith("Outro.")
        assert fences_balanced(c)
    assert content("\n".join(chunks)) == content(f"Intro.\n```python\n{body}\n```\nOutro.")


def test_unclosed_fence_is_closed() -> None:
    chunks = split_markdown("text\n\n```sh\necho hi", 100)
    assert chunks == ["text\n\n```sh\necho hi\n```"]


def test_one_huge_word_is_cut_hard() -> None:
    chunks = split_markdown("x" * 250, 100)
    assert [len(c) for c in chunks] == [100, 100, 50]


def test_too_small_limit_for_a_fence_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        split_markdown("```python\n" + "a" * 50 + "\n```", 12)


# ------------------------------------------------------------------ truncate


def test_truncate_adds_ellipsis_at_a_word_boundary() -> None:
    out = truncate("the quick brown fox jumps over the lazy dog", 20)
    assert len(out) <= 20 and out.endswith(ELLIPSIS)
    assert out == "the quick brown fox…"


def test_truncate_closes_an_open_fence() -> None:
    text = "Look:\n```python\n" + "\n".join(f"line_{i}()" for i in range(50)) + "\n```"
    out = truncate(text, 80)
    assert len(out) <= 80
    assert fences_balanced(out)
    assert out.endswith("\n```") and ELLIPSIS in out


@given(st.text(alphabet="ab `\n", max_size=300), st.integers(min_value=8, max_value=200))
def test_truncate_never_exceeds_and_keeps_fences(text: str, limit: int) -> None:
    out = truncate(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
    else:
        assert fences_balanced(out) or not fences_balanced(text[: len(out)])


def test_truncate_leaves_short_text() -> None:
    assert truncate("short", 10) == "short"


# ------------------------------------------------------------------ mentions


@pytest.mark.parametrize(
    ("raw", "forbidden"),
    [
        ("hi @everyone", "@everyone"),
        ("hi @here", "@here"),
        ("HI @Everyone", "@Everyone"),
        ("<@123456789>", "<@123456789>"),
        ("<@!123456789>", "<@!123456789>"),
        ("<@&987654321>", "<@&987654321>"),
        ("<!channel>", "<!channel>"),
        ("<!here>", "<!here>"),
        ("<!everyone>", "<!everyone>"),
        ("<!subteam^S012AB|devs>", "<!subteam^"),
        ("<@U024BE7LH>", "<@U024BE7LH>"),
        ("<@W024BE7LH|bob>", "<@W024BE7LH"),
    ],
)
def test_mentions_are_neutralised(raw: str, forbidden: str) -> None:
    out = neutralize_mentions(raw)
    assert forbidden not in out
    assert out.replace(ZWSP, "").replace("&lt;", "<").replace("&gt;", ">") == raw


def test_plain_text_and_channel_links_are_untouched() -> None:
    text = "email me at a@b.c, see <#C123> and <https://x.y>"
    assert neutralize_mentions(text) == text


@given(st.text(alphabet="<>@!&^UW0123everyonhachl ", max_size=80))
def test_no_ping_survives(text: str) -> None:
    out = neutralize_mentions(text)
    assert not re.search(r"@(everyone|here)\b", out, re.I)
    assert not re.search(r"<@[!&]?\d+>", out)
    assert not re.search(r"<(!channel|!here|!everyone|!subteam\^|@[UWB])[^<>]*>", out, re.I)


# ------------------------------------------------------------------ Slack mrkdwn


@pytest.mark.parametrize(
    ("md", "want"),
    [
        ("**bold**", "*bold*"),
        ("__bold__", "*bold*"),
        ("*italic*", "_italic_"),
        ("_italic_", "_italic_"),
        ("~~gone~~", "~gone~"),
        ("[docs](https://ex.com/a?b=1&c=2)", "<https://ex.com/a?b=1&amp;c=2|docs>"),
        ("# Heading", "*Heading*"),
        ("## **Heading** ##", "*Heading*"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("- item", "• item"),
        ("* item *em*", "• item _em_"),
        ("use `a<b` here", "use `a&lt;b` here"),
        ("> quoted <x>", "> quoted &lt;x&gt;"),
    ],
)
def test_mrkdwn_inline(md: str, want: str) -> None:
    assert to_slack_mrkdwn(md) == want


def test_mrkdwn_code_block_drops_language_and_escapes() -> None:
    md = "```python\nif a < b and **x**:\n    pass\n```"
    assert to_slack_mrkdwn(md) == "```\nif a &lt; b and **x**:\n    pass\n```"


def test_mrkdwn_narrow_table_becomes_aligned_code() -> None:
    md = "| a | bb |\n|---|---|\n| 1 | 2 |\n\nafter"
    assert to_slack_mrkdwn(md) == "```\na | bb\n--+---\n1 | 2\n```\n\nafter"


def test_narrow_table_is_an_aligned_code_block_between_paragraphs() -> None:
    md = ("Compare:\n| Aspect | **Horovod** | DDP |\n| :--- | --- | ---: |\n"
          "| Setup | MPI | built-in |\n| Speed | good | `fast` |\nAfter.")
    assert tables_for_chat(md) == (
        "Compare:\n\n```\n"
        "Aspect | Horovod | DDP\n"
        "-------+---------+---------\n"
        "Setup  | MPI     | built-in\n"
        "Speed  | good    | fast\n"
        "```\n\nAfter."
    )


def test_wide_table_becomes_a_nested_list_keeping_every_cell() -> None:
    md = (
        "| Feature | Batch Inference | Real-Time Inference |\n| --- | --- | --- |\n"
        "| Use Case | Large-scale predictions (e.g., fraud detection at night) "
        "| Immediate predictions |\n| Latency | High | |"
    )
    assert tables_for_chat(md) == (
        "- **Use Case**\n"
        "  - Batch Inference: Large-scale predictions (e.g., fraud detection at night)\n"
        "  - Real-Time Inference: Immediate predictions\n"
        "- **Latency**\n"
        "  - Batch Inference: High"
    )
    assert "• *Use Case*" in to_slack_mrkdwn(md)


def test_tables_inside_code_and_pipes_in_prose_are_left_alone() -> None:
    md = "```\n| a | b |\n|---|---|\n```\nuse a | b to pipe\n\nx || y"
    assert tables_for_chat(md) == md


@given(st.text(alphabet="|-: ab\n*", max_size=200))
def test_tables_for_chat_never_crashes_and_balances_fences(md: str) -> None:
    out = tables_for_chat(md)
    assert sum(1 for line in out.split("\n") if line.startswith("```")) % 2 == 0
    if not any(re.fullmatch(r"[\s|:-]*-{3,}[\s|:-]*", line) for line in md.split("\n")):
        assert out == md.replace("\r\n", "\n")  # no delimiter row: no table, no change


def test_mrkdwn_links_only_for_web_targets() -> None:
    assert to_slack_mrkdwn("[hi](!here)") == "hi (!here)"
    assert to_slack_mrkdwn("[me](@U123ABC)") == "me (@U123ABC)"
    assert to_slack_mrkdwn("[a|b](https://x.y/p|q)") == "<https://x.y/p%7Cq|a/b>"
    assert to_slack_mrkdwn("[mail](mailto:a@b.c)") == "<mailto:a@b.c|mail>"


def test_at_channel_is_neutralised_like_here_and_everyone() -> None:
    assert neutralize_mentions("@channel @Here") == f"@{ZWSP}channel @{ZWSP}Here"
