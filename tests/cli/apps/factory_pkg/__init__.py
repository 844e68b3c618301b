"""A package with an app factory taking arguments."""

from __future__ import annotations

from erlen import Erlen


def create_app(config_name: str = "default", *, testing: bool = False) -> Erlen:
    app = Erlen(__name__)
    app.config["CONFIG_NAME"] = config_name
    app.config["TESTING"] = testing

    @app.route("/")
    def index() -> str:
        return f"factory {config_name}"

    return app


def needs_args(required: str) -> Erlen:
    return create_app(required)


def raising_factory() -> Erlen:
    raise ValueError("factory failed in user code")


def not_an_app() -> str:
    return "a string"


settings = {"debug": True}
