"""The service layer: command handlers and the posting/reveal jobs, orchestrating storage
and the pure rules. Nothing here knows a platform."""
