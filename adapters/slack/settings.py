"""The `[slack]` section: tokens, connection mode and pacing.

Tokens are `SecretStr` so that printing the settings (in a log line or a traceback) shows
`**********`. Env names are `SLACK_` + the field name (`SLACK_BOT_TOKEN`, `SLACK_APP_TOKEN`,
`SLACK_SIGNING_SECRET`, ...), the names Slack's own guides use; in `qotd.toml` the keys
are the bare field names under `[slack]`. A prefix (rather than per-field aliases) keeps
generic variables such as `PATH` or `PORT` from leaking in.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from bot.settings import SectionSettings

DEFAULT_API_URL = "https://slack.com/api/"


class SlackSettings(SectionSettings):
    section: ClassVar[str] = "slack"
    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True, env_prefix="SLACK_")

    bot_token: SecretStr | None = Field(default=None)
    app_token: SecretStr | None = Field(default=None)
    signing_secret: SecretStr | None = Field(default=None)
    client_id: str | None = Field(default=None)
    client_secret: SecretStr | None = Field(default=None)
    state_secret: SecretStr | None = Field(default=None)
    api_url: str = Field(default=DEFAULT_API_URL)
    host: str = Field(default="0.0.0.0")
    port: int = Field(default=3000, ge=0, le=65535)
    path: str = Field(default="/slack/events")
    admins: str = Field(default="")
    database_url: str | None = Field(default=None)
    post_interval_seconds: float = Field(default=1.1, ge=0)
    max_retries: int = Field(default=5, ge=0)
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    history_window: int = Field(default=50, ge=1, le=1000)
    reconnect_grace_seconds: float = Field(default=120.0, gt=0)

    @property
    def multi_workspace(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def normalized_api_url(self) -> str:
        """slack_sdk joins method names onto base_url, so it must end with a slash."""
        url = self.api_url.strip() or DEFAULT_API_URL
        return url if url.endswith("/") else url + "/"

    def admin_ids(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.admins.split(",") if part.strip())

    def problems(self) -> list[str]:
        """What stops the adapter from starting, in words a person can act on."""
        found: list[str] = []
        if not self.multi_workspace and self.bot_token is None:
            found.append(
                "set SLACK_BOT_TOKEN (single workspace) or SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET (multi-workspace install)"
            )
        if self.app_token is None and self.signing_secret is None:
            found.append("set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)")
        if self.multi_workspace and self.signing_secret is None:
            found.append("multi-workspace install needs SLACK_SIGNING_SECRET for its OAuth pages")
        return found
