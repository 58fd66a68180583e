"""`qotd` (also `python -m bot`): one parser assembled from the parts that own each command.

The content commands come from `content.cli`, the bot's own (run, console, db) from
`bot.cli_core`, and platform commands (`qotd discord ...`) from adapter plugins.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bot import cli_core
from bot.plugins import discover
from content import cli as content_cli

# A setting passed by its field name (`--db` becomes database_url=...) is named as the
# operator knows it.
SHOWN_AS = {"database_url": "DATABASE_URL (or --db)"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qotd", description="Question-of-the-day bot for Discord and Slack."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_core.register(sub)
    content_cli.register(sub)
    for plugin in discover():
        plugin.add_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except BrokenPipeError:
        # The reader went away (`qotd bank duplicates | head`): nothing left to say. Point
        # stdout at devnull so the flush at exit stays quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        from pydantic import ValidationError  # not at import: keeps `qotd --help` light

        if not isinstance(exc, ValidationError):
            raise
        # A bad setting is one line per problem, naming the variable; never the values
        # (a token could be among them).
        for problem in exc.errors(include_input=False):
            where = ".".join(str(part) for part in problem["loc"]) or exc.title
            where = SHOWN_AS.get(where, where)
            message = str(problem["msg"]).removeprefix("Value error, ")
            print(f"qotd: setting {where}: {message}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
