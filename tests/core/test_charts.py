"""The `/mastery` chart: a real PNG (decoded with Pillow), drawn off the event loop, with
alt text that names the weakest topics; many and long topics still fit; and nothing in
`bot` imports matplotlib until a chart is drawn. matplotlib's first import is slow, so
the tests are few and share renders where they can."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from pathlib import Path

from PIL import Image

from bot.boundary import Attachment
from bot.service.charts import (
    MAX_TOPICS,
    MasteryChartData,
    TopicBar,
    mastery_alt_text,
    mastery_chart,
)

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UPLOAD_LIMIT = 512 * 1024  # well under Discord's (10 MB) and Slack's upload limits


def decoded(attachment: Attachment) -> Image.Image:
    assert attachment.data[:8] == PNG_SIGNATURE
    assert attachment.content_type == "image/png"
    assert attachment.filename.endswith(".png")
    assert len(attachment.data) < UPLOAD_LIMIT
    image = Image.open(io.BytesIO(attachment.data))
    image.load()  # decodes every byte, not only the header
    assert image.format == "PNG"
    return image


def data(topics: tuple[TopicBar, ...], *, streak: int = 4) -> MasteryChartData:
    return MasteryChartData(name="Alice", topics=topics, streak=streak,
                            weekly_reviews=(0, 3, 5, 2, 0, 7, 9, 4))


async def test_chart_is_a_png_drawn_while_the_event_loop_keeps_running() -> None:
    topics = (TopicBar("SQL", 0.92, 6), TopicBar("Model Monitoring", 0.31, 4),
              TopicBar("Feature Stores", 0.55, 3), TopicBar("Statistics", 0.78, 8))
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.002)

    running = asyncio.create_task(ticker())
    try:
        chart = await mastery_chart(data(topics))
    finally:
        done.set()
        await running
    # drawn in a worker thread: the loop ran the ticker meanwhile (drawn on the loop,
    # the ticker would not have run once before the chart was done)
    assert ticks >= 5
    width, height = decoded(chart).size
    assert 400 <= width <= 2000 and 250 <= height <= 2000
    assert chart.alt_text == mastery_alt_text(data(topics))


def test_alt_text_names_the_weakest_topics_first() -> None:
    topics = (TopicBar("SQL", 0.92, 6), TopicBar("Model Monitoring", 0.31, 4),
              TopicBar("Feature Stores", 0.55, 3), TopicBar("Statistics", 0.78, 8))
    text = mastery_alt_text(data(topics, streak=1))
    weakest = text.split("Weakest topics: ")[1]
    assert weakest.index("Model Monitoring 31%") < weakest.index("Feature Stores 55%")
    assert weakest.index("Feature Stores 55%") < weakest.index("Statistics 78%")
    assert "SQL" not in weakest.split(".")[0]  # only the weakest three are named
    assert "Streak: 1 day." in text
    assert "0, 3, 5, 2, 0, 7, 9, 4; 30 in all" in text


async def test_many_long_topics_and_no_cards_still_make_readable_pngs() -> None:
    many = tuple(
        TopicBar(f"Topic {i:02d} " + "with a remarkably long descriptive name " * 3,
                 (i % 10) / 10, i + 1)
        for i in range(40)
    )
    big = decoded(await mastery_chart(data(many)))
    small = decoded(await mastery_chart(data(many[:3])))
    # at most MAX_TOPICS bars plus "+N more": the picture grows with the bars, then stops
    assert big.size[0] == small.size[0]
    assert big.size[1] > small.size[1]
    assert big.size[1] <= 1400
    alt = mastery_alt_text(data(many))
    # ties at 0 % put the topic with more cards first
    assert "40 topics" in alt and "Topic 30 with a remarkably" in alt
    assert " 0% (11 cards)" in alt
    # 40 topics draw as many bars as 13: twelve and "+N more"
    assert big.size == decoded(await mastery_chart(data(many[:MAX_TOPICS + 1]))).size

    empty = await mastery_chart(MasteryChartData(name="Bob", topics=(), streak=0,
                                                 weekly_reviews=()))
    decoded(empty)
    assert "no cards yet" in empty.alt_text


def test_bot_does_not_import_matplotlib_until_a_chart_is_drawn() -> None:
    code = (
        "import sys, bot.app, bot.service.charts, bot.service.commands, bot.service.admin\n"
        "print(any(m == 'matplotlib' or m.startswith('matplotlib.') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
