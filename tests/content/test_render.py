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
    for_discord,
    html_to_markdown,
    neutralize_mentions,
    split_markdown,
    starts_with_block,
    tables_for_chat,
    to_slack_mrkdwn,
    truncate,
    without_spoilers,
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
        ("__bold text__", "*bold text*"),
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


# ------------------------------------------------------------------ reading Markdown with the parser


@pytest.mark.parametrize(
    ("md", "discord", "slack"),
    [
        ("Call __getitem__ or snake_case_name, _private and `__init__`.",
         "Call \\_\\_getitem\\_\\_ or snake_case_name, \\_private and `__init__`.",
         "Call `__getitem__` or snake_case_name, `_private` and `__init__`."),
        ("Load Dataset.__getitem__() from __init__.py",
         "Load Dataset.\\_\\_getitem\\_\\_() from \\_\\_init\\_\\_.py",
         "Load Dataset.`__getitem__`() from `__init__`.py"),
        ("use *args and **kwargs", "use \\*args and \\*\\*kwargs", "use `*args` and `**kwargs`"),
        ("see https://x.io/a_b/_c and max_depth_", "see https://x.io/a_b/_c and max_depth\\_",
         "see <https://x.io/a_b/_c> and `max_depth_`"),
        ("**bold** and *em* and __strong words__", "**bold** and *em* and **strong words**",
         "*bold* and _em_ and *strong words*"),
    ],
)
def test_identifiers_are_never_emphasis(md: str, discord: str, slack: str) -> None:
    assert for_discord(md) == discord
    assert to_slack_mrkdwn(md) == slack


def test_headings_discord_keeps_three_levels_slack_none() -> None:
    md = "# One\n\n### Three **b**\n\n#### Four [docs](https://ex.com/a)\n\n###### Six **x**"
    assert for_discord(md) == (
        "# One\n\n### Three **b**\n\n**Four [docs](https://ex.com/a)**\n\n**Six x**"
    )
    assert to_slack_mrkdwn(md) == "*One*\n\n*Three b*\n\n*Four <https://ex.com/a|docs>*\n\n*Six x*"
    assert for_discord("Title\n=====\n\nText") == "# Title\n\nText"


def test_text_that_discord_would_read_as_syntax_is_escaped() -> None:
    assert for_discord("\\# not a heading\n\n\\- not a list") == (
        "\\# not a heading\n\n\\- not a list"
    )
    assert for_discord("in the year\n2024. It rained") == "in the year\n2024\\. It rained"
    assert for_discord("a ~~b~~ \\~~c and x || y") == "a ~~b~~ \\~\\~c and x \\|\\| y"


def test_html_becomes_markdown_on_both_platforms() -> None:
    md = ("<details><summary><b>Answer</b></summary>\n\n"
          "Use <b>bold</b>, <i>it</i>, <code>a_b</code><br>and &amp; "
          "<img src=\"https://ex.com/d.png\" alt=\"diagram\"> or <a href=\"https://ex.com\">site</a>"
          " for List<String>.\n\n</details>")
    assert for_discord(md) == (
        "**Answer**\n\nUse **bold**, *it*, `a_b`\nand & [diagram](https://ex.com/d.png) or "
        "[site](https://ex.com) for List<String>."
    )
    assert to_slack_mrkdwn(md) == (
        "*Answer*\n\nUse *bold*, _it_, `a_b`\nand &amp; <https://ex.com/d.png|diagram> or "
        "<https://ex.com|site> for List&lt;String&gt;."
    )


def test_html_blocks_lists_tables_and_pre() -> None:
    md = ("<ul><li>one</li><li>two <b>2</b></li></ul>\n\n"
          "<table><tr><th>k</th><th>v</th></tr><tr><td>a_b</td><td>1</td></tr></table>\n\n"
          "<pre><code>x = 1 < 2\n</code></pre>")
    assert for_discord(md) == (
        "- one\n- two **2**\n\n```\nk   | v\n----+--\na_b | 1\n```\n\n```\nx = 1 < 2\n```"
    )
    assert html_to_markdown("<p>a * b</p><p>c</p>") == "a \\* b\n\nc"


def test_slack_syntax_in_an_html_looking_block_stays_text() -> None:
    assert for_discord("<!channel> see <b & b>") == "<!channel> see <b & b>"
    assert to_slack_mrkdwn("<!channel> see") == "&lt;!channel&gt; see"


def test_spoilers_hide_on_discord_and_show_elsewhere() -> None:
    md = "**Hint:** ||think about `a_b`|| and a || b"
    assert for_discord(md) == "**Hint:** ||think about `a_b`|| and a \\|\\| b"
    assert to_slack_mrkdwn(md) == "*Hint:* think about `a_b` and a || b"
    assert without_spoilers(md) == "**Hint:** think about `a_b` and a || b"
    assert without_spoilers("```\n||kept||\n```") == "```\n||kept||\n```"


def test_code_blocks_are_backtick_fences_that_their_code_cannot_close() -> None:
    assert for_discord("~~~python\nx = 1\n~~~") == "```python\nx = 1\n```"
    assert for_discord("Text:\n\n    indented()\n") == "Text:\n\n```\nindented()\n```"
    assert for_discord("````md\n```\ninner\n```\n````") == "````md\n```\ninner\n```\n````"
    assert to_slack_mrkdwn("- item\n\n  ```sh\n  a && b\n  ```") == (
        "• item\n\n```\na &amp;&amp; b\n```"
    )


def test_lists_keep_their_shape() -> None:
    md = "1. one\n2. two\n   - nested *x*\n\n- loose\n\n- list"
    assert for_discord(md) == "1. one\n2. two\n   - nested *x*\n\n- loose\n\n- list"
    assert to_slack_mrkdwn(md) == "1. one\n2. two\n   • nested _x_\n\n• loose\n\n• list"
    assert for_discord("3) three\n4) four") == "3. three\n4. four"


def test_links_that_are_not_web_links() -> None:
    assert for_discord("[back](#contents) and [file](notes.md)") == "back and file (notes.md)"
    assert to_slack_mrkdwn("<https://ex.com/a>") == "<https://ex.com/a>"
    assert for_discord("<https://ex.com/a>") == "https://ex.com/a"


@pytest.mark.parametrize(
    ("md", "block"),
    [("- a\n- b", True), ("1. a", True), ("```\nx\n```", True), ("> q", True),
     ("## H", True), ("| a | b |\n|---|---|\n| 1 | 2 |", True), ("plain text", False),
     ("**bold** - not a list", False), ("", False)],
)
def test_starts_with_block(md: str, block: bool) -> None:
    assert starts_with_block(md) is block


markdownish = st.text(alphabet="ab_*`#-> |~<>/\n[]()!:1.", max_size=200)


@settings(max_examples=300, deadline=None)
@given(markdownish)
def test_the_writers_never_crash_and_close_every_fence(md: str) -> None:
    for out in (for_discord(md), to_slack_mrkdwn(md)):
        assert fences_balanced(out)
        assert not re.search(r"^#{4,} ", content_lines(out), re.M)


def content_lines(text: str) -> str:
    """`text` without its fenced code, for checks on what is not code."""
    keep: list[str] = []
    inside = False
    for ln in text.split("\n"):
        if OPEN.match(ln) or CLOSE.match(ln):
            inside = not inside if (CLOSE.match(ln) or not inside) else inside
            continue
        if not inside:
            keep.append(ln)
    return "\n".join(keep)


def test_slack_link_labels_are_plain_and_keep_identifiers() -> None:
    md = "[the `__init__` **docs** a|b](https://x.y) and <a href=\"https://z\">a_b <b>c</b></a>"
    assert to_slack_mrkdwn(md) == "<https://x.y|the __init__ docs a/b> and <https://z|a_b c>"
    assert for_discord(md) == "[the `__init__` **docs** a|b](https://x.y) and [a_b **c**](https://z)"


def test_html_comments_are_notes_to_editors_and_never_shown() -> None:
    assert for_discord("a\n\n<!-- hidden -->\n\nb <!-- x -->c") == "a\n\nb c"
    assert to_slack_mrkdwn("<!-- multi\nline -->\n<p>x</p>") == "x"
