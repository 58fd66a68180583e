"""Settings from the environment and an optional `qotd.toml`.

Environment variables win over the file. The file is `./qotd.toml` unless `QOTD_CONFIG`
names another. Each section of the file is a table (`[core]`, `[discord]`, `[slack]`);
adapters subclass `SectionSettings` for theirs. Secrets are `SecretStr` so that a
settings object printed in a log or an error shows `**********`, never the value.
Nothing here is read at import time: `load()` is called by the composition root.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# The posting job wakes a little after its slot and a failed send is retried a minute
# later; both happen "after the time", so a grace window shorter than this would mark
# every post missed (0 did exactly that).
MIN_GRACE_HOURS = 0.1  # 6 minutes


def config_path() -> Path:
    return Path(os.environ.get("QOTD_CONFIG", "qotd.toml"))


class SectionSettings(BaseSettings):
    """Base for one section: env vars (each class sets its prefix) over `[section]` in TOML."""

    section: ClassVar[str] = "core"
    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_path()
        if path.is_file():
            sources.append(
                TomlConfigSettingsSource(settings_cls, toml_file=path, toml_table_header=(cls.section,))
            )
        return tuple(sources)


class CoreSettings(SectionSettings):
    """The core's settings. Env names are given per field (DATABASE_URL has no prefix,
    as hosting platforms set it)."""

    section: ClassVar[str] = "core"

    database_url: str = Field(
        default="sqlite+aiosqlite:///./qotd.db",
        validation_alias="DATABASE_URL",
    )
    grace_hours: float = Field(default=3.0, validation_alias="QOTD_GRACE_HOURS")
    reveal_hours: float = Field(default=8.0, gt=0, validation_alias="QOTD_REVEAL_HOURS")
    seed: str = Field(default="qotd", validation_alias="QOTD_SEED")
    bank_dir: str = Field(default="", validation_alias="QOTD_BANK_DIR")
    log_level: str = Field(default="INFO", validation_alias="QOTD_LOG_LEVEL")
    admins: str = Field(default="", validation_alias="QOTD_ADMINS")
    # The posting engine. A replica learns of work another replica planned at least
    # every poll; a sender renews its lease while it sends, and a lease that runs out
    # (its holder died) makes the work due again for whoever looks next.
    poll_seconds: float = Field(default=30.0, ge=0.05, le=3600, validation_alias="QOTD_POLL_SECONDS")
    lease_seconds: float = Field(default=30.0, ge=0.5, le=600, validation_alias="QOTD_LEASE_SECONDS")
    # A platform call that has not answered by then is abandoned and retried as a resend
    # (which looks for a copy that landed): a request held open must not hold its lease,
    # renewed, forever. Long enough for discord.py to wait out rate-limit buckets.
    send_timeout_seconds: float = Field(default=180.0, ge=1, le=3600,
                                        validation_alias="QOTD_SEND_TIMEOUT_SECONDS")
    send_concurrency: int = Field(default=16, ge=1, le=256, validation_alias="QOTD_SEND_CONCURRENCY")
    # For demos and the fault-injection suite: the clock runs at real speed, shifted by
    # this many seconds (a restarted process gets the same value, so time stays one line).
    clock_offset_seconds: float = Field(default=0.0, validation_alias="QOTD_CLOCK_OFFSET_SECONDS")
    # `qotd run` answers GET /health on this port when it is set (a load balancer's or
    # a supervisor's probe, and `qotd status --health`); loopback unless told otherwise.
    health_port: int | None = Field(default=None, ge=1, le=65535,
                                    validation_alias="QOTD_HEALTH_PORT")
    health_host: str = Field(default="127.0.0.1", min_length=1,
                             validation_alias="QOTD_HEALTH_HOST")

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True, populate_by_name=True)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        """`postgres://` from a host and `sqlite:///` work as written; other schemes are
        refused at start-up in one line instead of a driver traceback later."""
        from storage.engine import normalize_url  # sqlalchemy only where a URL is read

        return normalize_url(value)

    @field_validator("grace_hours")
    @classmethod
    def _grace_leaves_room(cls, value: float) -> float:
        if not value >= MIN_GRACE_HOURS:  # also refuses NaN
            raise ValueError(
                f"QOTD_GRACE_HOURS must be at least {MIN_GRACE_HOURS:g} (6 minutes), got "
                f"{value:g}: the posting job runs a moment after the scheduled time and a "
                "failed send is retried a minute later, so a shorter window marks every "
                "post missed. To stop posting use `/qotd pause` or `/qotd skip`."
            )
        return value


def load_core(**overrides: Any) -> CoreSettings:
    return CoreSettings(**overrides)
