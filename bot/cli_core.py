"""The bot's own commands: run, console, db. (Filled in by the core work.)"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    return None
