"""The question bank: model, importers, bank files, near-duplicates and rendering."""
