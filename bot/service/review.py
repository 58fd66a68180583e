"""Personal review (issue 14): `/review` sessions, status, add, forget, and `/mastery`.

Every member gets private cards from their own answers. Cards are derived on reads:
`sync_user` runs at the start of every review read and turns the attempts that have no
review log yet (or changed since theirs was rated) into logs and card states, so the
reaction hot path (storage.answer_writes) writes nothing more. When nothing changed the
sync is one indexed anti-join that returns no rows.

A session keeps nothing in memory: every button carries its card's id and review count
(bot.rules.review.action_text) and the database holds the rest, so buttons keep working
across a restart and a double press rates once. Everything here is ephemeral except
what the person shares with the Share button.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from fsrs import Rating

from bot import messages
from bot.boundary import (
    Button,
    ButtonInput,
    Choice,
    CommandInput,
    Field,
    OutMessage,
    Reply,
    Visibility,
    error,
)
from bot.rules import review as rules
from bot.rules.inputs import InputError, parse_whole_number, problems_of, refusal_text, shown
from bot.rules.review import CardFacts, CardState, ReviewAction
from bot.service import intake
from bot.service.deps import Deps
from content.model import Question
from content.topics import topic_key
from storage.bank_reads import history, pickable_entries
from storage.cards import ADDED, ATTEMPT, Forgotten
from storage.models import CardRow
from storage.uow import UnitOfWork

COUNT_MAX = 20
COUNT_DEFAULT = 5
SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "start": (),
    "status": (),
    "add": ("topic", "count"),
    "forget": (),
    "remind": ("time", "timezone"),  # bot.service.nudges
}
OPTION_NAMES: tuple[str, ...] = ("topic", "count", "time", "timezone")
COUNT_FORM = f"count must be a whole number from 1 to {COUNT_MAX}"
ButtonStyle = Literal["primary", "secondary", "success", "danger"]
NOT_YOURS = "That review button is not yours (or no longer exists); nothing was rated."
RATING_STYLES: dict[int, ButtonStyle] = {1: "danger", 2: "secondary", 3: "primary",
                                         4: "success"}


# --- deriving cards from attempts ----------------------------------------------------


# An attempt is found by the next sync if it was changed at most this long before the
# last one: a transaction still in flight when a sync read (its `updated_at` stamped a
# moment earlier) or a replica whose clock runs behind commits attempts stamped before
# the watermark. A day is far beyond either and still a handful of rows per person.
CARD_SYNC_MARGIN = timedelta(days=1)
CARD_SYNC_STEP = timedelta(hours=1)  # how often a sync that found nothing moves the mark


async def sync_user(uow: UnitOfWork, user_pk: int, now: datetime) -> int:
    """Bring the person's cards up to date with their attempts; the number of cards
    touched. A new attempt makes its review log (and the card, the first time: the
    first attempt is the first review), a changed one re-rates its own log; then each
    touched card is replayed from its logs through the FSRS scheduler. The caller
    commits."""
    synced_to = await uow.cards.synced_to(user_pk)
    since = None if synced_to is None else min(synced_to, now) - CARD_SYNC_MARGIN
    stale = await uow.cards.stale_attempts(user_pk, since)
    # what this sync saw is in the cards once the caller commits (if it rolls back, so
    # does the watermark). A read that found nothing moves it only now and then: the
    # window stays about a day, and reads seldom write
    if stale or synced_to is None or not synced_to <= now < synced_to + CARD_SYNC_STEP:
        await uow.cards.set_synced_to(user_pk, now)
    if not stale:
        return 0
    rated = []
    for attempt in stale:
        rating = rules.rating_of(choice=attempt.choice, signal=attempt.signal,
                                 grade=attempt.grade, peeked_before=attempt.peeked_before,
                                 correct=attempt.correct)
        if rating is None:
            if attempt.log_id is not None:
                await uow.cards.touch_attempt_log(attempt.log_id, attempt.updated_at)
            continue
        rated.append((attempt, rating))
    if not rated:
        return 0
    groups = [a.group_key for a, _ in rated]
    cards = await uow.cards.cards_by_group(user_pk, groups)
    missing: dict[str, dict[str, object]] = {}
    for attempt, _ in rated:  # oldest first: a card is made at its first attempt
        if attempt.log_card_id is None and attempt.group_key not in cards \
                and attempt.group_key not in missing:
            missing[attempt.group_key] = _state_values(rules.new_card(attempt.first_at)) | {
                "user_pk": user_pk, "group_key": attempt.group_key,
                "question_id": attempt.question_id, "created_at": attempt.first_at,
                "source": ATTEMPT}
    if missing:
        await uow.cards.insert_cards(list(missing.values()))
        cards = await uow.cards.cards_by_group(user_pk, groups)
    by_id = {card.id: card for card in cards.values()}
    latest: dict[int, tuple[datetime, str]] = {}
    logs = []
    for attempt, rating in rated:
        card_id = attempt.log_card_id or cards[attempt.group_key].id
        logs.append({"card_id": card_id, "attempt_id": attempt.attempt_id,
                     "attempt_updated_at": attempt.updated_at, "rating": int(rating),
                     "reviewed_at": attempt.first_at})
        seen = latest.get(card_id)
        if seen is None or attempt.first_at >= seen[0]:
            latest[card_id] = (attempt.first_at, attempt.question_id)
    await uow.cards.upsert_attempt_logs(logs)
    for card_id in latest:
        if card_id not in by_id:  # a log's card under another group key (a bank re-group)
            card = await uow.cards.get(card_id)
            assert card is not None
            by_id[card_id] = card
    await _replay(uow, [by_id[i] for i in latest], latest)
    return len(latest)


def _state_values(state: CardState) -> dict[str, object]:
    return {"state": state.state, "step": state.step, "stability": state.stability,
            "difficulty": state.difficulty, "due": state.due, "last_review": state.last_review,
            "reviews": state.reviews, "lapses": state.lapses}


async def _replay(uow: UnitOfWork, cards: Sequence[CardRow],
                  shown_questions: dict[int, tuple[datetime, str]] | None = None) -> None:
    logs = await uow.cards.logs_of([card.id for card in cards])
    by_card: dict[int, list[tuple[datetime, int]]] = {}
    for log in logs:
        by_card.setdefault(log.card_id, []).append((log.reviewed_at, log.rating))
    rows = []
    for card in cards:
        state = rules.replay(card.created_at, by_card.get(card.id, []))
        seen = (shown_questions or {}).get(card.id)
        question_id = card.question_id
        if seen is not None and (card.last_review is None or seen[0] >= card.last_review):
            question_id = seen[1]
        rows.append(_state_values(state) | {"card_id": card.id, "question_id": question_id})
    await uow.cards.store_states(rows)


def state_of(card: CardRow) -> CardState:
    return CardState(card.state, card.step, card.stability, card.difficulty, card.due,
                     card.last_review, card.reviews, card.lapses)


# --- who, where, when ------------------------------------------------------------------


async def _user_pk(uow: UnitOfWork, platform: str, workspace_id: str,
                   user_id: str) -> int | None:
    user = await uow.users.find(platform, workspace_id, user_id)
    return None if user is None else user.id


async def person_zone(uow: UnitOfWork, user_pk: int | None, platform: str, workspace_id: str,
                      channel_id: str) -> str:
    """The person's zone: their reminder's, else the zone of the channel they are in if
    it is scheduled, else UTC."""
    if user_pk is not None:
        zone = await uow.cards.reminder_zone(user_pk)
        if zone:
            return zone
    channel = await uow.channels.get(platform, workspace_id, channel_id)
    if channel is not None and channel.scheduled and channel.timezone:
        return channel.timezone
    return "UTC"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def when_text(at: datetime, now: datetime, zone: str) -> str:
    """`Thu 14:00` in the zone (with the date when it is a week or more away)."""
    local = at.astimezone(_zone(zone))
    if at - now >= timedelta(days=6):
        return local.strftime("%a %d %b %H:%M")
    return local.strftime("%a %H:%M")


def interval_text(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    if hours < 24:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = round(hours / 24)
    return f"{days} day{'s' if days != 1 else ''}"


def end_of_local_day(now: datetime, zone: str) -> datetime:
    local = now.astimezone(_zone(zone))
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(now.tzinfo) - timedelta(microseconds=1)


# --- the session -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    platform: str
    workspace_id: str
    channel_id: str


async def _question(deps: Deps, uow: UnitOfWork, card: CardRow) -> Question | None:
    row = await uow.questions.get(card.question_id)
    if row is None:
        row = await uow.questions.get(card.group_key)
    if row is None:
        return None
    return deps.parsed.get(row.id, row.synced_at, lambda: row.data)


def _card_message(question: Question, card: CardRow, due_now: int, result: str,
                  revealed: bool) -> OutMessage:
    """A card as the session shows it: the prompt like the daily post (no reactions),
    option buttons for a choice question, "Show answer" then the four ratings for an
    open one."""
    body = [result] if result else []
    body += messages.prompt_parts(question)
    choices: tuple[Choice, ...] = ()
    if question.kind == "choice":
        choices = tuple(Choice(key=letter, text=text)
                        for letter, text in zip(question.letters, question.choices, strict=True))
        buttons = tuple(
            Button(letter, rules.action_text(ReviewAction(rules.CHOOSE, card.id, card.reviews,
                                                          letter)))
            for letter in question.letters)
    elif not revealed:
        buttons = (Button("Show answer", rules.action_text(
            ReviewAction(rules.SHOW, card.id, card.reviews)), "primary"),)
    else:
        body.extend(messages.answer_parts(question))
        buttons = tuple(
            Button(rating.name, rules.action_text(
                ReviewAction(rules.RATE, card.id, card.reviews, str(int(rating)))),
                RATING_STYLES[int(rating)])
            for rating in Rating)
    more = due_now - 1
    footer = ("Private review: only you see this. "
              + (f"{more} more due after this one." if more > 0 else "The last one due now."))
    return OutMessage(
        tone="question", title="Review",
        body="\n\n".join(body),
        fields=(Field("Topic", question.topic or "General"),
                Field("Difficulty", messages.difficulty_label(question))),
        choices=choices, footer=footer, buttons=buttons)


async def _next_reply(deps: Deps, uow: UnitOfWork, user_pk: int, where: _Where,
                      now: datetime, result: str, visibility: Visibility) -> Reply:
    """The person's next due card, or "All done" with when the next one is due."""
    while True:
        card = await uow.cards.next_due(user_pk, now)
        if card is None:
            break
        question = await _question(deps, uow, card)
        if question is not None:
            due_now = await uow.cards.due_count(user_pk, now)
            return Reply(visibility, _card_message(question, card, due_now, result, revealed=False))
        # the question is gone from the bank entirely: the card cannot be shown
        await uow.cards.store_state(card.id, {"due": now + timedelta(days=365)})
    first = await uow.cards.first_due(user_pk)
    lines = [result] if result else []
    if first is None:
        lines.append("No review cards yet: answer the daily question (every answer makes a "
                     "card), or take some with `/review add topic:…`.")
    else:
        zone = await person_zone(uow, user_pk, where.platform, where.workspace_id,
                                 where.channel_id)
        lines.append(f"All done — next card due {when_text(first, now, zone)} your time "
                     f"({zone}).")
    return Reply(visibility, OutMessage(tone="info", title="Review", body="\n\n".join(lines)))


async def start(deps: Deps, command: CommandInput) -> list[Reply]:
    now = deps.clock.now()
    ref = command.channel
    where = _Where(ref.platform, ref.workspace_id, ref.channel_id)
    async with deps.db.uow() as uow:
        user_pk = await _user_pk(uow, ref.platform, ref.workspace_id, command.actor.user_id)
        if user_pk is None:
            return [messages_info("No review cards yet: answer the daily question (every "
                                  "answer makes a card), or take some with "
                                  "`/review add topic:…`.")]
        await sync_user(uow, user_pk, now)
        reply = await _next_reply(deps, uow, user_pk, where, now, "", "ephemeral")
        await uow.commit()
    return [reply]


def messages_info(text: str, title: str = "Review") -> Reply:
    return Reply("ephemeral", OutMessage(tone="info", title=title, body=text))


async def handle_button(deps: Deps, raw: ButtonInput) -> list[Reply]:
    """A press on a review button: a choice, "Show answer", a rating, Share, or the
    forget confirmation. Only the card's owner may press; a stale press (the card was
    rated since the button was drawn) rates nothing and shows the current next card."""
    button = intake.button(raw)
    if not intake.ids_ok(button.channel, button.actor.user_id):
        return [error(intake.BAD_IDS_TEXT)]
    action = rules.parse_action(button.action)
    if action is None:
        return [error("That button is not one of mine (or is from an older version).")]
    now = deps.clock.now()
    ref = button.channel
    where = _Where(ref.platform, ref.workspace_id, ref.channel_id)
    async with deps.db.uow() as uow:
        user_pk = await _user_pk(uow, ref.platform, ref.workspace_id, button.actor.user_id)
        if user_pk is None:
            return [error(NOT_YOURS)]
        if action.verb == rules.SHARE:
            if action.target != user_pk:
                return [error("That Share button is someone else's; nothing was posted.")]
            await sync_user(uow, user_pk, now)
            name = button.actor.display_name or await _stored_name(uow, button)
            text = await _share_text(uow, user_pk, now, name)
            await uow.commit()
            return [Reply("public", OutMessage(tone="info", body=text))]
        if action.verb == rules.FORGET:
            if action.target != user_pk:
                return [error("That button is someone else's; nothing was deleted.")]
            gone = await uow.cards.forget(user_pk, now)
            await uow.commit()
            return [Reply("update", OutMessage(tone="info", title="Review",
                                               body=forgot_text(gone)))]
        card = await uow.cards.get(action.target)
        if card is None or card.user_pk != user_pk:
            return [error(NOT_YOURS)]
        await sync_user(uow, user_pk, now)
        await uow.session.refresh(card)
        if card.reviews != action.reviews:
            reply = await _next_reply(deps, uow, user_pk, where, now,
                                      "That card was already rated; here is the next one.",
                                      "update")
            await uow.commit()
            return [reply]
        question = await _question(deps, uow, card)
        if question is None:
            return [error(NOT_YOURS)]
        if action.verb == rules.SHOW:
            if question.kind == "choice":
                return [error("That card is a choice question now: pick an option.")]
            due_now = await uow.cards.due_count(user_pk, now)
            return [Reply("update", _card_message(question, card, due_now, "", revealed=True))]
        if action.verb == rules.CHOOSE:
            if question.kind != "choice" or action.value not in question.letters:
                return [error("That option is not on this card any more.")]
            right = action.value == question.correct
            rating = Rating.Good if right else Rating.Again
            answer = question.correct or "?"
            result = (f"✅ {answer} was right." if right
                      else f"❌ {answer} was right (you chose {action.value}).")
        else:
            if question.kind == "choice":
                return [error("That card is a choice question now: pick an option.")]
            rating = Rating(int(action.value))
            result = f"Rated {rating.name}."
        if not await uow.cards.claim_review(card.id, card.reviews):
            reply = await _next_reply(deps, uow, user_pk, where, now,
                                      "That card was already rated; here is the next one.",
                                      "update")
            await uow.commit()
            return [reply]
        await uow.cards.add_review_log(card.id, int(rating), now)
        await _replay(uow, [card])
        await uow.session.refresh(card)
        result += f" Back in {interval_text(card.due - now)}."
        reply = await _next_reply(deps, uow, user_pk, where, now, result, "update")
        await uow.commit()
    return [reply]


async def _stored_name(uow: UnitOfWork, button: ButtonInput) -> str:
    user = await uow.users.find(button.channel.platform, button.channel.workspace_id,
                                button.actor.user_id)
    return user.display_name if user is not None else ""


# --- status, share ------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    due: rules.DueCounts
    cards: int
    new_this_week: int
    retention: float | None
    reviews_this_week: int


async def overview(uow: UnitOfWork, user_pk: int, now: datetime, zone: str) -> Overview:
    cards = await uow.cards.with_topics(user_pk)
    states = [state_of(card) for card, _ in cards]
    week_ago = now - timedelta(days=7)
    due = rules.due_counts((s.due for s in states), now, end_of_local_day(now, zone))
    reviews = len(await uow.cards.review_times(user_pk, week_ago))
    return Overview(due, len(cards), sum(1 for c, _ in cards if c.created_at >= week_ago),
                    rules.mean_retrievability(states, now), reviews)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{round(100 * value)}%"


async def status(deps: Deps, command: CommandInput) -> list[Reply]:
    now = deps.clock.now()
    ref = command.channel
    async with deps.db.uow() as uow:
        user_pk = await _user_pk(uow, ref.platform, ref.workspace_id, command.actor.user_id)
        if user_pk is None:
            return [messages_info("No review cards yet: answer the daily question (every "
                                  "answer makes a card).", "Review status")]
        await sync_user(uow, user_pk, now)
        zone = await person_zone(uow, user_pk, ref.platform, ref.workspace_id, ref.channel_id)
        facts = await overview(uow, user_pk, now, zone)
        await uow.commit()
    lines = [
        f"Due now: {facts.due.now}",
        f"Due by the end of today ({zone}): {facts.due.today}",
        f"Due within 7 days: {facts.due.week}",
        f"Cards: {facts.cards} ({facts.new_this_week} new in the last 7 days)",
        f"Reviews in the last 7 days: {facts.reviews_this_week}",
        f"Predicted retention now (FSRS): {_percent(facts.retention)}",
    ]
    share = Button("Share", rules.action_text(ReviewAction(rules.SHARE, user_pk)))
    start_hint = "Run `/review` to start." if facts.due.now else ""
    return [Reply("ephemeral", OutMessage(
        tone="info", title="Review status", body="\n".join(lines), footer=start_hint,
        buttons=(share,)))]


async def _share_text(uow: UnitOfWork, user_pk: int, now: datetime, name: str) -> str:
    facts = await overview(uow, user_pk, now, "UTC")
    retention = ("" if facts.retention is None
                 else f", {_percent(facts.retention)} remembered")
    return (f"📚 {messages.safe_name(name)} is practising with qotd review: "
            f"{facts.cards} card{'s' if facts.cards != 1 else ''}{retention}, "
            f"{facts.reviews_this_week} review{'s' if facts.reviews_this_week != 1 else ''} "
            "in the last 7 days.")


# --- add ----------------------------------------------------------------------------------


def add_count(options: Mapping[str, str]) -> int:
    text = options.get("count", "").strip()
    if not text:
        return COUNT_DEFAULT
    return parse_whole_number(text, low=1, high=COUNT_MAX, form=COUNT_FORM)


def _topic_of(text: str, known: Sequence[str]) -> list[str]:
    """The bank's spellings of the topic `text` names (compared by topic_key), or
    InputError listing the valid topics."""
    key = topic_key(text)
    spellings = [t for t in known if key and topic_key(t) == key]
    if not spellings:
        given = f"unknown topic {shown(text.strip())}" if text.strip() else "topic is required"
        raise InputError(f"{given}; valid topics: {', '.join(known) or '(none yet)'}")
    return spellings


async def add_problems(deps: Deps, command: CommandInput) -> list[str]:
    async with deps.db.uow() as uow:
        known = await uow.questions.topics()
    options = dict(command.options)
    return [*problems_of(lambda: _topic_of(options.get("topic", ""), known)),
            *problems_of(lambda: add_count(options))]


async def add(deps: Deps, command: CommandInput) -> list[Reply]:
    """N new cards of a topic from the bank's ready questions: never a group the person
    already has a card for, never one still to be posted this cycle in a channel they
    answer in or ask from (the picker's view of that channel, bot.service.bank_cache,
    minus what its cycle already asked, storage.bank_reads.history)."""
    now = deps.clock.now()
    ref = command.channel
    options = dict(command.options)
    async with deps.db.uow() as uow:
        known = await uow.questions.topics()
        problems = [*problems_of(lambda: _topic_of(options.get("topic", ""), known)),
                    *problems_of(lambda: add_count(options))]
        if problems:
            return [error(refusal_text(problems))]
        spellings = set(_topic_of(options.get("topic", ""), known))
        count = add_count(options)
        user_pk = await uow.users.upsert(ref.platform, ref.workspace_id, command.actor.user_id,
                                         command.actor.display_name, now)
        await sync_user(uow, user_pk, now)
        have = await uow.cards.group_keys(user_pk)
        upcoming: set[str] = set()
        # their channels: where they answered, and the one they are asking in
        here = await uow.channels.get(ref.platform, ref.workspace_id, ref.channel_id)
        channel_pks = set(await uow.cards.attempt_channels(user_pk))
        if here is not None:
            channel_pks.add(here.id)
        for channel_pk in sorted(channel_pks):
            channel = await uow.channels.by_pk(channel_pk)
            if channel is None:
                continue
            view = await deps.bank.view(uow.session, channel)
            past = await history(uow.session, channel.id, channel.cycle)
            upcoming |= set(view.keys) - past.asked
        in_topic = sorted(qid for qid, topic, _, _ in await pickable_entries(uow.session)
                          if topic in spellings)
        owned = [q for q in in_topic if q in have]
        spoilers = [q for q in in_topic if q not in have and q in upcoming]
        free = [q for q in in_topic if q not in have and q not in upcoming]
        chosen = free[:count]
        fresh = rules.new_card(now)
        for qid in chosen:
            await uow.cards.insert_card(_state_values(fresh) | {
                "user_pk": user_pk, "group_key": qid, "question_id": qid,
                "created_at": now, "source": ADDED})
        await uow.commit()
    topic = sorted(spellings)[0]
    lines = [f"Added {len(chosen)} card{'s' if len(chosen) != 1 else ''} from {topic}"
             + (": they are due now, run `/review` to start." if chosen else ".")]
    if len(chosen) < count:
        why = []
        if owned:
            why.append(f"{len(owned)} you already have as cards")
        if spoilers:
            why.append(f"{len(spoilers)} still to be posted in your channels this cycle "
                       "(no spoilers for the team)")
        reason = "; ".join(why) if why else "the topic has no more ready questions"
        lines.append(f"You asked for {count}; {topic} has {len(in_topic)} ready "
                     f"question{'s' if len(in_topic) != 1 else ''}: {reason}.")
    return [messages_info("\n".join(lines), "Review add")]


# --- forget -------------------------------------------------------------------------------


async def forget(deps: Deps, command: CommandInput) -> list[Reply]:
    now = deps.clock.now()
    ref = command.channel
    async with deps.db.uow() as uow:
        user_pk = await uow.users.upsert(ref.platform, ref.workspace_id, command.actor.user_id,
                                         command.actor.display_name, now)
        await sync_user(uow, user_pk, now)
        cards = len(await uow.cards.group_keys(user_pk))
        await uow.commit()
    confirm = Button("Delete my review data",
                     rules.action_text(ReviewAction(rules.FORGET, user_pk)), "danger")
    return [Reply("ephemeral", OutMessage(
        tone="info", title="Forget my review data",
        body=(f"This deletes your {cards} review card{'s' if cards != 1 else ''}, every "
              "review log and your daily reminder. Your answers, points and streaks in the "
              "channels stay; answers you already gave will not make cards again."),
        footer="Nothing is deleted until you press the button.", buttons=(confirm,)))]


def forgot_text(gone: Forgotten) -> str:
    reminder = " and your daily reminder" if gone.reminder else ""
    return (f"Deleted {gone.cards} card{'s' if gone.cards != 1 else ''}, "
            f"{gone.logs} review log{'s' if gone.logs != 1 else ''}{reminder}. "
            "New answers make new cards.")


# --- mastery -----------------------------------------------------------------------------


async def mastery_of(uow: UnitOfWork, user_pk: int, now: datetime) -> list[rules.TopicMastery]:
    cards = await uow.cards.with_topics(user_pk)
    return rules.mastery([CardFacts(topic, state_of(card)) for card, topic in cards], now)


def mastery_lines(topics: Sequence[rules.TopicMastery]) -> list[str]:
    """The text version of mastery (the console, screen readers, `/qotd stats`)."""
    if not topics:
        return ["No review cards yet: every answer makes one."]
    lines = ["**Mastery by topic**"]
    for t in topics:
        share = f"{round(100 * t.retrievability)}% remembered" if t.reviewed else "new"
        lines.append(f"- {t.topic}: {t.cards} card{'s' if t.cards != 1 else ''}, {share}, "
                     f"{t.reviews} review{'s' if t.reviews != 1 else ''}")
    weak = rules.weakest(topics)
    if weak:
        lines.append("**Weakest topics**")
        lines.extend(f"- {t.topic} ({round(100 * t.retrievability)}%): "
                     f"`/review add topic:{t.topic}`" for t in weak)
    return lines


async def mastery(deps: Deps, command: CommandInput) -> list[Reply]:
    """`/mastery`: the text, and the chart as a PNG (bot.service.charts, imported here:
    matplotlib stays out of start-up)."""
    now = deps.clock.now()
    ref = command.channel
    async with deps.db.uow() as uow:
        user_pk = await _user_pk(uow, ref.platform, ref.workspace_id, command.actor.user_id)
        if user_pk is None:
            return [messages_info("No review cards yet: every answer makes one.", "Mastery")]
        await sync_user(uow, user_pk, now)
        topics = await mastery_of(uow, user_pk, now)
        weekly = rules.weekly_counts(
            await uow.cards.review_times(user_pk, now - timedelta(weeks=8)), now)
        streak = 0
        channel = await uow.channels.get(ref.platform, ref.workspace_id, ref.channel_id)
        if channel is not None:
            from bot.service.standings import user_streak

            streak = (await user_streak(uow, channel.id, user_pk)).current
        name = command.actor.display_name
        if not name:
            user = await uow.users.find(ref.platform, ref.workspace_id, command.actor.user_id)
            name = user.display_name if user is not None else command.actor.user_id
        await uow.commit()
    from bot.service.charts import MasteryChartData, TopicBar, mastery_chart

    data = MasteryChartData(
        name=messages.safe_name(name),
        topics=tuple(TopicBar(t.topic, t.retrievability, t.cards) for t in topics),
        streak=streak, weekly_reviews=weekly)
    attachments = (await mastery_chart(data),) if topics else ()
    return [Reply("ephemeral", OutMessage(
        tone="info", title=f"Mastery for {messages.safe_name(name)}",
        body="\n".join(mastery_lines(topics)), attachments=attachments))]


# --- the command -------------------------------------------------------------------------


def _sub(command: CommandInput) -> str:
    return command.subcommand or "start"


def _shape_problems(command: CommandInput) -> list[str]:
    sub = _sub(command)
    if sub not in SUBCOMMANDS:
        return [f"unknown subcommand {shown(sub)}: use one of {', '.join(SUBCOMMANDS)}"]
    return [f"`review {sub}` takes no option {shown(name)}"
            for name in command.options if name not in SUBCOMMANDS[sub]]


async def review_problems(deps: Deps, command: CommandInput) -> list[str]:
    """Everything `/review` would refuse in this command (the commands table's check,
    run when the options already have other problems, so one refusal names them all)."""
    problems = _shape_problems(command)
    if not problems and _sub(command) == "add":
        problems += await add_problems(deps, command)
    if not problems and _sub(command) == "remind":
        from bot.service.nudges import remind_problems  # nudges imports this module

        problems += await remind_problems(deps, command)
    return problems


async def handle(deps: Deps, command: CommandInput) -> list[Reply]:
    """`/review [start|status|add|forget|remind]`; every reply is private (add and
    remind validate their own options)."""
    problems = _shape_problems(command)
    if problems:
        return [error(refusal_text(problems))]
    sub = _sub(command)
    if sub == "status":
        return await status(deps, command)
    if sub == "add":
        return await add(deps, command)
    if sub == "forget":
        return await forget(deps, command)
    if sub == "remind":
        from bot.service.nudges import remind

        return await remind(deps, command)
    return await start(deps, command)
