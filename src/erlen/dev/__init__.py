"""The development server, reloader and debugger (tools; nothing imports them)."""

from __future__ import annotations
