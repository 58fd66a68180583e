"""OutMessage -> plain text for a terminal (and for readable test transcripts)."""

from __future__ import annotations

from bot.boundary import NO, YES, OutMessage

_REACTION_LABELS = {YES: "✅", NO: "❌"}


def render(message: OutMessage) -> str:
    lines: list[str] = []
    if message.title:
        lines.append(f"== {message.title} ==")
    if message.fields:
        lines.append(" | ".join(f"{f.name}: {f.value}" for f in message.fields))
    if message.body:
        lines.append(message.body)
    for choice in message.choices:
        lines.append(f"  {choice.key}) {choice.text}")
    if message.buttons:
        lines.append("  " + " ".join(f"[{b.label}]" for b in message.buttons))
    if message.reactions:
        keys = " ".join(_REACTION_LABELS.get(k, k) for k in message.reactions)
        lines.append(f"  reactions: {keys}")
    if message.footer:
        lines.append(f"-- {message.footer}")
    return "\n".join(lines)
