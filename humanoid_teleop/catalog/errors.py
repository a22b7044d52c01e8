"""Errors of the catalog, rooted in :class:`TeleopError`."""

from __future__ import annotations

from humanoid_teleop.core.errors import TeleopError


class CatalogError(TeleopError):
    """The catalog database or a query is unusable; the message names the database or field."""
