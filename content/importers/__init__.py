"""The importer registry: every shape the bank can read, chosen by sniffing or by name."""

from __future__ import annotations

from content.importers.base import Importer, ParseError, ParseResult

__all__ = ["Importer", "ParseError", "ParseResult", "all_importers", "by_name", "sniff"]


def all_importers() -> list[Importer]:
    """Every importer, most specific shapes first (ties in sniffing go to the earlier one)."""
    from content.importers.registry import IMPORTERS

    return list(IMPORTERS)


def by_name(name: str) -> Importer:
    for imp in all_importers():
        if imp.name == name:
            return imp
    choices = ", ".join(i.name for i in all_importers())
    raise KeyError(f"unknown format {name!r}; choose one of: {choices}")


def sniff(text: str, filename: str) -> Importer | None:
    """The importer most confident that `text` is its shape, or None if none is."""
    best: tuple[float, Importer] | None = None
    for imp in all_importers():
        score = imp.sniff(text, filename)
        if score > 0 and (best is None or score > best[0]):
            best = (score, imp)
    return best[1] if best else None
