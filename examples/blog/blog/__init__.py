"""A small multi-user blog on erlen: the application factory.

``create_app()`` builds the app. Configuration comes, in order, from built-in
development defaults, then ``config.py`` in the instance folder (or the
``test_config`` mapping, in tests). The instance folder is ``instance/`` next to
the package unless the ``BLOG_INSTANCE_PATH`` environment variable names another
(absolute) directory; the SQLite database lives there as ``blog.sqlite``.
"""

from __future__ import annotations

import os
import typing as t

from erlen import Erlen
from erlen import Response

#: Environment variable that moves the instance folder (and so the database).
INSTANCE_ENV = "BLOG_INSTANCE_PATH"


def create_app(test_config: t.Mapping[str, t.Any] | None = None) -> Erlen:
    """Build and configure the blog application."""
    instance_path = os.environ.get(INSTANCE_ENV) or None
    if instance_path is not None:
        instance_path = os.path.abspath(instance_path)
    app = Erlen(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_mapping(
        # Only good for development: set a real secret in instance/config.py.
        SECRET_KEY="dev",
        DATABASE=os.path.join(app.instance_path, "blog.sqlite"),
        # Any method erlen.security.generate_password_hash accepts.
        PASSWORD_HASH_METHOD="scrypt",
        # Adds an X-Blog-Worker header (the serving process id) to every response.
        EXPOSE_WORKER_PID=False,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)

    from . import auth
    from . import blog
    from . import db

    db.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)
    # The blog's index is the site's front page: url_for("index") works too.
    app.add_url_rule("/", endpoint="index")

    if app.config["EXPOSE_WORKER_PID"]:

        @app.after_request
        def add_worker_pid(response: Response) -> Response:
            response.headers["X-Blog-Worker"] = str(os.getpid())
            return response

    return app
