"""Fields of a network's JSON answer, read with the type they must have.

A network (or a server of a federated one) may send any JSON in any field. A field of the
wrong type is read as missing, so that one item of the wrong shape costs that field, not
the whole fetch: an exception there failed every poll of the source for as long as the
item stayed in the answer.
"""

from __future__ import annotations

from typing import Any


def as_str(value: object) -> str | None:
    """``value`` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def as_dict(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """``value`` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def as_id(value: object) -> str | None:
    """An id, sent as a string or a number, as a string; None when it is neither (a
    boolean is not a number here) or empty."""
    if not value or isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)
