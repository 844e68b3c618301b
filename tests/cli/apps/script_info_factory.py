"""A Flask 1.x style factory that asks for the ScriptInfo."""

from __future__ import annotations

import typing as t

from erlen import Erlen


def create_app(script_info: t.Any) -> Erlen:
    app = Erlen("with_script_info")
    app.config["SCRIPT_INFO"] = script_info
    return app
