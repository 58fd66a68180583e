"""Placeholder plugin until the console adapter lands: never configured, adds no command."""

from __future__ import annotations

import argparse
from typing import Any


class _Pending:
    name = "console"

    def is_configured(self) -> bool:
        return False

    def add_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        return None

    async def start(self, core: Any) -> Any:
        raise RuntimeError("the console adapter is not built yet")


plugin = _Pending()
