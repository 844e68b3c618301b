"""erlen: Flask's programming model on its own fast HTTP core, for WSGI and ASGI.

``from erlen import Flask`` works: :class:`Erlen` is also exported as ``Flask``.
"""

from __future__ import annotations

import importlib
import typing as t

__version__ = "0.1.0.dev0"

# PERF: the public names are imported on first use (PEP 562), so importing one
# submodule (``erlen.dev.serving``, ``erlen.http``) doesn't load the whole
# framework, and ``import erlen`` stays cheap.
_EXPORTS: dict[str, tuple[str, str | None]] = {
    "json": ("json", None),
    "Erlen": ("app", "Erlen"),
    "Blueprint": ("blueprints", "Blueprint"),
    "Config": ("config", "Config"),
    "after_this_request": ("ctx", "after_this_request"),
    "copy_current_request_context": ("ctx", "copy_current_request_context"),
    "has_app_context": ("ctx", "has_app_context"),
    "has_request_context": ("ctx", "has_request_context"),
    "flash": ("flashing", "flash"),
    "get_flashed_messages": ("flashing", "get_flashed_messages"),
    "current_app": ("globals", "current_app"),
    "g": ("globals", "g"),
    "request": ("globals", "request"),
    "session": ("globals", "session"),
    "abort": ("helpers", "abort"),
    "get_root_path": ("helpers", "get_root_path"),
    "make_response": ("helpers", "make_response"),
    "redirect": ("helpers", "redirect"),
    "send_file": ("helpers", "send_file"),
    "send_from_directory": ("helpers", "send_from_directory"),
    "stream_with_context": ("helpers", "stream_with_context"),
    "url_for": ("helpers", "url_for"),
    "jsonify": ("json", "jsonify"),
    "appcontext_popped": ("signals", "appcontext_popped"),
    "appcontext_pushed": ("signals", "appcontext_pushed"),
    "appcontext_tearing_down": ("signals", "appcontext_tearing_down"),
    "before_render_template": ("signals", "before_render_template"),
    "got_request_exception": ("signals", "got_request_exception"),
    "message_flashed": ("signals", "message_flashed"),
    "request_finished": ("signals", "request_finished"),
    "request_started": ("signals", "request_started"),
    "request_tearing_down": ("signals", "request_tearing_down"),
    "template_rendered": ("signals", "template_rendered"),
    "get_template_attribute": ("templating", "get_template_attribute"),
    "render_template": ("templating", "render_template"),
    "render_template_string": ("templating", "render_template_string"),
    "stream_template": ("templating", "stream_template"),
    "stream_template_string": ("templating", "stream_template_string"),
    "Request": ("wrappers", "Request"),
    "Response": ("wrappers", "Response"),
    "Flask": ("app", "Erlen"),
}

__all__ = sorted(_EXPORTS)
# Captured now: importing the submodule ``erlen.globals`` binds the name
# ``globals`` in this namespace, hiding the builtin.
_namespace = globals()


def __getattr__(name: str) -> t.Any:
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'erlen' has no attribute {name!r}") from None
    module = importlib.import_module(f"erlen.{module_name}")
    value = module if attribute is None else getattr(module, attribute)
    _namespace[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*_namespace, *_EXPORTS])


if t.TYPE_CHECKING:
    from . import json as json
    from .app import Erlen as Erlen
    from .blueprints import Blueprint as Blueprint
    from .config import Config as Config
    from .ctx import after_this_request as after_this_request
    from .ctx import copy_current_request_context as copy_current_request_context
    from .ctx import has_app_context as has_app_context
    from .ctx import has_request_context as has_request_context
    from .flashing import flash as flash
    from .flashing import get_flashed_messages as get_flashed_messages
    from .globals import current_app as current_app
    from .globals import g as g
    from .globals import request as request
    from .globals import session as session
    from .helpers import abort as abort
    from .helpers import get_root_path as get_root_path
    from .helpers import make_response as make_response
    from .helpers import redirect as redirect
    from .helpers import send_file as send_file
    from .helpers import send_from_directory as send_from_directory
    from .helpers import stream_with_context as stream_with_context
    from .helpers import url_for as url_for
    from .json import jsonify as jsonify
    from .signals import appcontext_popped as appcontext_popped
    from .signals import appcontext_pushed as appcontext_pushed
    from .signals import appcontext_tearing_down as appcontext_tearing_down
    from .signals import before_render_template as before_render_template
    from .signals import got_request_exception as got_request_exception
    from .signals import message_flashed as message_flashed
    from .signals import request_finished as request_finished
    from .signals import request_started as request_started
    from .signals import request_tearing_down as request_tearing_down
    from .signals import template_rendered as template_rendered
    from .templating import get_template_attribute as get_template_attribute
    from .templating import render_template as render_template
    from .templating import render_template_string as render_template_string
    from .templating import stream_template as stream_template
    from .templating import stream_template_string as stream_template_string
    from .wrappers import Request as Request
    from .wrappers import Response as Response

    #: Flask's name for the application class, so ``from erlen import Flask`` ports.
    Flask = Erlen
