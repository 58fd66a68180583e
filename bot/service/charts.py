"""The `/mastery` picture: a person's topics as bars of retrievability, their streak and
their weekly activity, as a PNG.

Rendered with matplotlib's Agg backend through the object API (`matplotlib.figure.Figure`
and its own canvas), never pyplot: pyplot keeps global figure state that two renders in
two threads would share. The render runs in a worker thread (`asyncio.to_thread`) so the
event loop keeps answering reactions while a chart is drawn (tens of milliseconds, more
on the first call, which imports matplotlib). matplotlib is imported inside the worker
only: `qotd --help` and the bot's start-up never pay its import (about half a second).

`mastery_alt_text` says the same in words: the message carries it for screen readers and
the console prints it instead of the file.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from bot.boundary import Attachment

MAX_TOPICS = 12  # bars drawn; the rest are summed up as "+N more"
TOPIC_LABEL = 28  # characters of a topic's name on its bar label
ALT_WEAKEST = 3  # topics the alt text names
FILENAME = "mastery.png"
_DPI = 100
_WIDTH_IN = 8.0


@dataclass(frozen=True)
class TopicBar:
    topic: str
    retrievability: float  # 0..1: FSRS's predicted chance of recall, averaged
    cards: int


@dataclass(frozen=True)
class MasteryChartData:
    name: str  # display name, already safe (bot.messages.safe_name)
    topics: tuple[TopicBar, ...]
    streak: int
    weekly_reviews: tuple[int, ...]  # reviews per week, last 8 weeks, oldest first


def _clamp(value: float) -> float:
    if value != value:  # NaN: nothing known, drawn as 0
        return 0.0
    return min(1.0, max(0.0, value))


def _shorten(text: str, limit: int = TOPIC_LABEL) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def weakest_first(topics: tuple[TopicBar, ...]) -> list[TopicBar]:
    """Topics ordered weakest first (lowest retrievability, then more cards, then name),
    so the bars and the alt text agree on what comes first."""
    return sorted(topics, key=lambda t: (_clamp(t.retrievability), -t.cards, t.topic.casefold()))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def mastery_alt_text(data: MasteryChartData) -> str:
    """What the chart shows, in words: the weakest topics first, the streak and the
    reviews of the last weeks."""
    owner = f"{data.name}'s" if data.name else "Your"
    streak = f"Streak: {_plural(data.streak, 'day')}."
    weeks = data.weekly_reviews
    activity = (
        f"Reviews over the last {_plural(len(weeks), 'week')} (oldest first): "
        + ", ".join(str(n) for n in weeks) + f"; {sum(weeks)} in all."
        if weeks else "No review activity yet."
    )
    if not data.topics or sum(t.cards for t in data.topics) == 0:
        return f"{owner} topic mastery: no cards yet. {streak} {activity}"
    ordered = weakest_first(data.topics)
    weakest = ", ".join(
        f"{_shorten(t.topic, 60)} {round(_clamp(t.retrievability) * 100)}% "
        f"({_plural(t.cards, 'card')})"
        for t in ordered[:ALT_WEAKEST]
    )
    total = sum(t.cards for t in ordered)
    label = "Weakest topic" if len(ordered) == 1 else "Weakest topics"
    return (
        f"{owner} topic mastery, {_plural(len(ordered), 'topic')}, "
        f"{_plural(total, 'card')}. {label}: {weakest}. {streak} {activity}"
    )


def _render(data: MasteryChartData) -> bytes:
    """Draw the chart and return PNG bytes (runs in a worker thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    ordered = weakest_first(data.topics)
    has_cards = bool(ordered) and sum(t.cards for t in ordered) > 0
    shown = ordered[:MAX_TOPICS] if has_cards else []
    hidden = len(ordered) - len(shown) if has_cards else 0
    rows = len(shown) + (1 if hidden else 0)
    bars_height = max(2.0, 0.38 * rows + 1.0)
    height = bars_height + 2.6

    fig = Figure(figsize=(_WIDTH_IN, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    # hspace is a fraction of the mean axes height: keep the gap at about an inch
    grid = fig.add_gridspec(2, 1, height_ratios=[bars_height, 1.6],
                            hspace=1.0 / ((bars_height + 1.6) / 2),
                            left=0.34, right=0.95, top=1 - 0.75 / height, bottom=0.45 / height)
    title = f"{_shorten(data.name, 24)} · topic mastery" if data.name else "Topic mastery"
    fig.suptitle(f"{title}    streak: {_plural(data.streak, 'day')}",
                 fontsize=12, fontweight="bold", x=0.5, y=1 - 0.25 / height)

    bars = fig.add_subplot(grid[0])
    if shown:
        # weakest at the top: barh draws the first row at the bottom, so reverse
        rev = list(reversed(shown))
        labels = [f"{_shorten(t.topic)} ({t.cards})" for t in rev]
        values = [_clamp(t.retrievability) * 100 for t in rev]
        colors = ["#d9534f" if v < 50 else "#f0ad4e" if v < 80 else "#5cb85c" for v in values]
        offset = 1 if hidden else 0
        positions = [i + offset for i in range(len(rev))]
        bars.barh(positions, values, color=colors, height=0.7)
        for y, v in zip(positions, values, strict=True):
            inside = v > 88  # a full bar carries its figure inside, in white
            bars.text(v - 1.5 if inside else v + 1.5, y, f"{round(v)}%", va="center",
                      ha="right" if inside else "left", fontsize=8,
                      color="white" if inside else "black")
        ticks, tick_labels = positions, labels
        if hidden:
            ticks = [0, *positions]
            tick_labels = [f"+{hidden} more", *labels]
        bars.set_yticks(ticks, labels=tick_labels, fontsize=8)
        bars.set_ylim(-0.6, len(ticks) - 0.4)
        bars.set_xlim(0, 100)
        bars.set_xlabel("remembered now (%)", fontsize=8)
        bars.tick_params(axis="x", labelsize=8)
        bars.axvline(70, color="#888888", linewidth=0.8, linestyle="--")
    else:
        bars.set_axis_off()
        fig.text(0.5, 1 - (0.75 + bars_height / 2) / height,
                 "No cards yet: answer a question of the day\nor try /review add",
                 ha="center", va="center", fontsize=11)

    weeks = fig.add_subplot(grid[1])
    counts = list(data.weekly_reviews)
    if counts:
        xs = list(range(len(counts)))
        weeks.bar(xs, counts, color="#337ab7", width=0.7)
        n = len(counts)
        weeks.set_xticks(xs, labels=["this" if i == n - 1 else f"-{n - 1 - i}w" for i in xs],
                         fontsize=7)
        weeks.set_ylim(0, max(1, max(counts)) * 1.15)
    else:
        weeks.set_xticks([])
    weeks.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    weeks.tick_params(axis="y", labelsize=7)
    weeks.set_title("reviews per week", fontsize=8)

    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=_DPI)
    return out.getvalue()


async def mastery_chart(data: MasteryChartData) -> Attachment:
    """The chart as a PNG attachment, rendered off the event loop."""
    png = await asyncio.to_thread(_render, data)
    return Attachment(filename=FILENAME, data=png, alt_text=mastery_alt_text(data),
                      content_type="image/png")
