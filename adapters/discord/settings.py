"""Discord settings: `DISCORD_*` environment variables over `[discord]` in qotd.toml.

The token is a SecretStr so that printing the settings (or an error that carries them)
shows asterisks. `api_base` / `gateway_url` exist for REST proxies in front of Discord
and for the local fake the tests run against.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from bot.settings import SectionSettings


class DiscordSettings(SectionSettings):
    section: ClassVar[str] = "discord"
    # hide_input_in_errors: a validation error would otherwise echo every input, token too.
    model_config = SettingsConfigDict(
        env_prefix="DISCORD_",
        extra="ignore",
        env_ignore_empty=True,
        populate_by_name=True,
        hide_input_in_errors=True,
    )

    token: SecretStr | None = None
    api_base: str = ""
    gateway_url: str = ""
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: str = ""
    # Guild for the automatic command sync at start (guild commands update at once; global
    # ones can take a while). Empty: sync globally.
    guild_id: int | None = None
    # How long an interaction may wait for the core before we defer it: Discord drops
    # interactions not answered within 3 s. 0 (the default: ack first, issue 16) defers
    # every interaction at once, before the core's database work.
    defer_after: float = Field(default=0.0, ge=0, le=2.5)
    # Interactions handled by the core at once (the rest wait, already acknowledged):
    # keeps the event loop free to read the gateway and ack the next ones under load.
    core_concurrency: int = Field(default=32, ge=1, le=1000)
    # Pause between our own retries of a create that hit a server error (times attempt).
    retry_backoff: float = Field(default=1.0, ge=0)
    # Discord's global limit is 50 requests per second per bot (interaction responses
    # are exempt); discord.py only reacts to a global 429 and gives a request up after
    # five in a row, so a fan-out is paced under it instead (DISCORD_GLOBAL_RATE).
    global_rate: float = Field(default=48.0, gt=0, le=10_000)
    ready_timeout: float = Field(default=60.0, gt=0)
    guild_ready_timeout: float = Field(default=2.0, ge=0)

    @field_validator("api_base", "gateway_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and "://" not in value:
            raise ValueError(f"expected a URL with a scheme (https://, wss://), got {value!r}")
        return value

    @model_validator(mode="after")
    def _check_shards(self) -> DiscordSettings:
        ids = self.shard_id_list()
        if ids and self.shard_count is None:
            raise ValueError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total shards)")
        if self.shard_count is not None and any(i >= self.shard_count for i in ids):
            raise ValueError(
                f"DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT={self.shard_count}, "
                f"got {self.shard_ids!r}"
            )
        return self

    def shard_id_list(self) -> list[int]:
        raw = [part.strip() for part in self.shard_ids.split(",") if part.strip()]
        try:
            ids = [int(part) for part in raw]
        except ValueError:
            raise ValueError(
                f"DISCORD_SHARD_IDS is a comma list of shard numbers like 0,1 (got {self.shard_ids!r})"
            ) from None
        if any(i < 0 for i in ids):
            raise ValueError("DISCORD_SHARD_IDS cannot be negative")
        return ids

    def token_value(self) -> str:
        if self.token is None or not self.token.get_secret_value().strip():
            raise ValueError(
                "DISCORD_TOKEN is not set: copy the bot token from the Discord developer "
                "portal (Bot > Reset Token) into the environment or [discord] in qotd.toml"
            )
        return self.token.get_secret_value().strip()
