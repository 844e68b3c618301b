"""A module importing something that doesn't exist: an import error, not "not found"."""

from __future__ import annotations

import erlen_missing_dependency_xyz  # noqa: F401
