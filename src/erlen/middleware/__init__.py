"""WSGI middleware: wrappers around ``app.wsgi_app`` that adjust the environ.

``from erlen.middleware.proxy_fix import ProxyFix`` replaces Werkzeug's import
of the same name.
"""

from __future__ import annotations
