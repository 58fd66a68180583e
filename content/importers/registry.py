"""The ordered list of importers. Each helper module adds its importer here."""

from __future__ import annotations

from content.importers.base import Importer

IMPORTERS: list[Importer] = []
