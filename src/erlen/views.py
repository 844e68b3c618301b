"""Class-based views: :class:`View` and :class:`MethodView`, as in Flask.

A class groups the code of one endpoint (shared setup, helpers, one method per
HTTP verb); :meth:`View.as_view` turns it into the plain view function that
``add_url_rule`` registers.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from .globals import current_app
from .globals import request

#: The lowercase method names that :class:`MethodView` treats as handlers.
http_method_funcs = frozenset(["get", "post", "head", "options", "delete", "put", "trace", "patch"])


class View:
    """A view as a class: subclass it, implement :meth:`dispatch_request`, register
    ``YourView.as_view("name")``.

    A new instance serves each request unless :attr:`init_every_request` is
    ``False``, so attributes set on ``self`` do not leak between requests.
    """

    #: The methods the view accepts; ``None`` means the rule's default (``GET``).
    methods: t.ClassVar[cabc.Collection[str] | None] = None

    #: Whether ``OPTIONS`` is answered automatically; ``None`` follows the app's
    #: ``PROVIDE_AUTOMATIC_OPTIONS``.
    provide_automatic_options: t.ClassVar[bool | None] = None

    #: Decorators applied, in order, to the function :meth:`as_view` returns
    #: (the first one listed is the innermost).
    decorators: t.ClassVar[list[cabc.Callable[..., t.Any]]] = []

    #: Make a new instance for every request. Set to ``False`` to build one
    #: instance in :meth:`as_view` and share it, which is faster but means
    #: ``self`` must not hold per-request data.
    init_every_request: t.ClassVar[bool] = True

    def dispatch_request(self, **kwargs: t.Any) -> t.Any:
        """Handle the request; ``kwargs`` are the URL's variables. May be ``async def``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement dispatch_request(self, **kwargs):"
            " it is the view that handles the request."
        )

    @classmethod
    def as_view(
        cls, name: str, *class_args: t.Any, **class_kwargs: t.Any
    ) -> cabc.Callable[..., t.Any]:
        """The view function for ``add_url_rule``, named ``name`` (the default endpoint).

        ``class_args`` and ``class_kwargs`` are passed to the class's constructor.
        The function carries ``view_class``, ``methods`` and
        ``provide_automatic_options`` for the app to read.
        """
        if cls.init_every_request:

            def view(**kwargs: t.Any) -> t.Any:
                self = cls(*class_args, **class_kwargs)
                return current_app.ensure_sync(self.dispatch_request)(**kwargs)

        else:
            instance = cls(*class_args, **class_kwargs)

            def view(**kwargs: t.Any) -> t.Any:
                return current_app.ensure_sync(instance.dispatch_request)(**kwargs)

        wrapped: t.Any = view
        if cls.decorators:
            # COMPAT: decorators see the final name and module, as in Flask.
            wrapped.__name__ = name
            wrapped.__module__ = cls.__module__
            for decorator in cls.decorators:
                wrapped = decorator(wrapped)

        wrapped.view_class = cls
        wrapped.__name__ = name
        wrapped.__doc__ = cls.__doc__
        wrapped.__module__ = cls.__module__
        wrapped.methods = cls.methods
        wrapped.provide_automatic_options = cls.provide_automatic_options
        return t.cast("cabc.Callable[..., t.Any]", wrapped)


class MethodView(View):
    """A view that dispatches to the method named after the HTTP verb: ``get``,
    ``post``, ``put`` and so on.

    :attr:`methods` is derived from the handler methods the class (or any base)
    defines, so the URL rule accepts exactly those. ``HEAD`` falls back to ``get``.
    """

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" in cls.__dict__:
            return  # set explicitly on this class: respect it
        methods: set[str] = set()
        for base in cls.__bases__:
            base_methods = getattr(base, "methods", None)
            if base_methods:
                methods.update(base_methods)
        for name in http_method_funcs:
            if hasattr(cls, name):
                methods.add(name.upper())
        if methods:
            cls.methods = methods

    def dispatch_request(self, **kwargs: t.Any) -> t.Any:
        """Call the handler for the request's method; it may be ``async def``."""
        method = request.method
        handler = getattr(self, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(self, "get", None)
        if handler is None:
            # COMPAT: Flask asserts here; raised explicitly so ``python -O`` keeps it.
            raise AssertionError(f"Unimplemented method {method!r}")
        return current_app.ensure_sync(handler)(**kwargs)
