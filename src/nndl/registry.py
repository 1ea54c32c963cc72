"""One small helper for the name tables (costs, activations, initializers, data sets).

Every name a user can type is registered in exactly one table and looked up there;
an unknown name raises ``ConfigError`` (a ``ValueError``) that lists the valid ones.
Nothing is ever looked up with ``getattr`` on a module, ``import`` or ``eval``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from .errors import ConfigError

T = TypeVar("T")


def lookup(table: Mapping[str, T], name: object, what: str, field: str | None = None) -> T:
    """Return ``table[name]``, or raise ``ConfigError`` naming ``what``, the value and the choices
    (``field``: the config field the name was given for, carried by the error)."""
    if isinstance(name, str) and name in table:
        return table[name]
    choices = ", ".join(repr(k) for k in table)
    raise ConfigError(f"unknown {what} {name!r}; valid {what}s are: {choices}", field=field)
