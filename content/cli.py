"""`qotd import` and `qotd bank ...`. (Filled in by the bank work.)"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    return None
