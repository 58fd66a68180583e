"""A failure named the way an operator can act on it, never with secrets or payloads."""

from __future__ import annotations

import re

_SQLSTATE = re.compile(r"\b(?:SQLSTATE|sqlstate)[ =:]*([0-9A-Z]{5})\b")


def error_code(exc: BaseException) -> str:
    """`SlackApiError: channel_not_found`, `HTTPException 403`, `OperationalError:
    database is locked`: the type plus the platform's or the database's own code."""
    name = type(exc).__name__
    response = getattr(exc, "response", None)
    if response is not None and hasattr(response, "get"):
        try:
            code = response.get("error")
        except Exception:  # not a Slack response after all
            code = None
        if code:
            return f"{name}: {code}"
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    if isinstance(status, int):
        return f"{name} {status}" + (f" (code {code})" if code else "")
    original = getattr(exc, "orig", None)
    if original is not None:
        text = str(original).splitlines()[0] if str(original) else type(original).__name__
        state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
        found = _SQLSTATE.search(str(original))
        if state is None and found:
            state = found.group(1)
        return f"{name}: {text[:120]}" + (f" [{state}]" if state else "")
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{name}: {text[:120]}" if text else name
