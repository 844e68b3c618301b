"""The one request pipeline, and the two ways of driving it.

:func:`handle` is written once, as a coroutine, for WSGI and ASGI alike. It
reaches user code (views, hooks, error handlers) only through ``call``, the seam:

- Under WSGI, :func:`call_blocking` runs sync functions inline and async ones to
  completion on the thread's persistent event loop, so the coroutine never
  suspends and :func:`run_sync` finishes it with a single ``send(None)``: no
  event loop, no thread hop for sync apps.
- Under ASGI, an awaiting seam runs async functions on the server's loop and
  sync ones in a thread pool.

The seam's contract: ``call(func, *args)`` returns either the result, or a
coroutine that produces it. Every call site awaits only in the second case,
so the WSGI path creates no coroutine per user function.
"""

from __future__ import annotations

import collections.abc as cabc
import sys
import threading
import typing as t
from types import CoroutineType

from .globals import _ctx_get
from .http.exceptions import BadRequestKeyError
from .http.exceptions import HTTPException
from .http.exceptions import InternalServerError
from .plan import Plan
from .plan import find_error_handler
from .routing import RequestRedirect
from .signals import got_request_exception
from .signals import request_finished
from .signals import request_started

if t.TYPE_CHECKING:
    import asyncio

    from .app import Erlen
    from .ctx import RequestContext
    from .wrappers import Response

Call = cabc.Callable[..., t.Any]

_T = t.TypeVar("_T")

# -- the WSGI seam and driver --------------------------------------------------

_thread_state = threading.local()


def thread_loop() -> asyncio.AbstractEventLoop:
    """This thread's persistent event loop for async functions under WSGI.

    One loop per thread for its whole life, never one per request, so async
    clients with connection pools keep working across requests.
    """
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_state, "loop", None)
    if loop is None or loop.is_closed():
        # PERF: asyncio is imported only by apps that have async functions.
        import asyncio

        loop = _thread_state.loop = asyncio.new_event_loop()
    return loop


def run_coroutine_blocking(coro: cabc.Coroutine[t.Any, t.Any, _T]) -> _T:
    """Run ``coro`` to completion on this thread's loop (no loop may be running here)."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return thread_loop().run_until_complete(coro)
    coro.close()
    raise RuntimeError(
        "Cannot run an async function synchronously while an event loop is running in"
        " this thread. Under ASGI, await it instead of calling it through ensure_sync."
    )


def call_blocking(func: cabc.Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """The WSGI seam: call ``func``; finish a coroutine it returns on the thread's loop."""
    rv = func(*args, **kwargs) if kwargs else func(*args)
    if type(rv) is CoroutineType:
        return run_coroutine_blocking(rv)
    return rv


def run_sync(coro: cabc.Coroutine[t.Any, t.Any, _T]) -> _T:
    """Drive a pipeline coroutine that never suspends (the WSGI driver)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError(
        "The request pipeline suspended under the synchronous driver: something awaited"
        " an object that the WSGI call seam (erlen.pipeline.call_blocking) did not"
        " resolve. This is a bug in erlen; please report it."
    )


# -- the pipeline ----------------------------------------------------------------


# A driver runs, with the request context pushed (Flask's wsgi_app, once per
# protocol adapter):
#
#     try:
#         plan = app._match_request(ctx)
#         response = <drive>(handle(app, ctx, plan, call))
#     except Exception as e:
#         response = <drive>(handle_exception(app, ctx, plan, e, call))
#
# and passes the unhandled error, if any, to the teardown functions.


async def handle(app: Erlen, ctx: RequestContext, plan: Plan, call: Call) -> Response:
    """Flask's full dispatch: hooks, the view, error handlers and the finished response."""
    # PERF: steps with nothing registered are skipped without entering them, so
    # a request through an endpoint with no hooks pays for none (benchmarks/ hello).
    try:
        if request_started.receivers:
            request_started.send(app, _async_wrapper=app.ensure_sync)
        rv = None
        if plan.before or plan.url_value_preprocessors:
            rv = await preprocess(app, ctx, plan, call)
        if rv is None:
            rv = dispatch(app, ctx, plan, call)
            if type(rv) is CoroutineType:
                rv = await rv
    except Exception as e:
        rv = await handle_user_exception(app, ctx, plan, e, call)
    if (
        plan.after
        or ctx._after_request_functions
        or ctx._session is not None
        or request_finished.receivers
    ):
        return await finalize(app, ctx, plan, rv, call)
    return app.make_response(rv)


async def preprocess(app: Erlen, ctx: RequestContext, plan: Plan, call: Call) -> t.Any:
    """URL value preprocessors, then before_request functions until one returns a value."""
    if plan.url_value_preprocessors:
        request = ctx.request
        for func in plan.url_value_preprocessors:
            func(request.endpoint, request.view_args)
    for func in plan.before:
        rv = call(func)
        if type(rv) is CoroutineType:
            rv = await rv
        if rv is not None:
            return rv
    return None


def dispatch(app: Erlen, ctx: RequestContext, plan: Plan, call: Call) -> t.Any:
    """Raise the routing error, answer automatic OPTIONS, or call the view.

    Returns what the seam returns: the view's value or a coroutine producing it.
    """
    request = ctx.request
    if request.routing_exception is not None:
        app.raise_routing_exception(request)
    rule = request.url_rule
    if rule is not None and request.method == "OPTIONS" and rule.provide_automatic_options:
        return app.make_default_options_response()
    view = plan.view
    if view is None:
        view = app.view_functions[t.cast(str, request.endpoint)]
    kwargs = request.view_args
    # PERF: no keyword unpacking for a view without arguments (hello: ~300
    # instructions, benchmarks/instructions.py).
    return call(view, **kwargs) if kwargs else call(view)


async def handle_user_exception(
    app: Erlen, ctx: RequestContext, plan: Plan, e: Exception, call: Call
) -> t.Any:
    """Turn an error raised by a view or hook into a response value, or re-raise it."""
    if isinstance(e, BadRequestKeyError) and (app.debug or app.config["TRAP_BAD_REQUEST_ERRORS"]):
        e.show_exception = True
    if isinstance(e, HTTPException) and not app.trap_http_exception(e):
        return await handle_http_exception(app, ctx, plan, e, call)
    handler = find_error_handler(app, plan, e)
    if handler is None:
        raise e
    rv = call(handler, e)
    if type(rv) is CoroutineType:
        rv = await rv
    return rv


async def handle_http_exception(
    app: Erlen, ctx: RequestContext, plan: Plan, e: HTTPException, call: Call
) -> t.Any:
    """The registered handler's result for an HTTP error, or the error as its own response."""
    # COMPAT: errors without a code and routing redirects are responses as-is.
    if e.code is None or isinstance(e, RequestRedirect):
        return e
    handler = find_error_handler(app, plan, e)
    if handler is None:
        return e
    rv = call(handler, e)
    if type(rv) is CoroutineType:
        rv = await rv
    return rv


async def finalize(
    app: Erlen,
    ctx: RequestContext,
    plan: Plan,
    rv: t.Any,
    call: Call,
    from_error_handler: bool = False,
) -> Response:
    """Make the response, run the after-request functions, and save the session."""
    response = app.make_response(rv)
    try:
        if "process_response" in app._overrides:
            response = app.process_response(response)  # a subclass's override
        else:
            response = await process_response(app, ctx, plan, response, call)
        if request_finished.receivers:
            request_finished.send(app, _async_wrapper=app.ensure_sync, response=response)
    except Exception:
        if not from_error_handler:
            raise
        app.logger.exception("Request finalizing failed with an error while handling an error")
    return response


async def process_response(
    app: Erlen, ctx: RequestContext, plan: Plan, response: Response, call: Call
) -> Response:
    """after_this_request functions, then after_request hooks, then the session save."""
    rv: t.Any = response
    for func in (*ctx._after_request_functions, *plan.after):
        rv = call(func, rv)
        if type(rv) is CoroutineType:
            rv = await rv
    response = rv
    session = ctx._session
    if session is not None and not app.session_interface.is_null_session(session):
        app.session_interface.save_session(app, session, response)
    return response


async def handle_exception(
    app: Erlen, ctx: RequestContext, plan: Plan, e: Exception, call: Call
) -> Response:
    """An unhandled error: propagate it, or log it and answer 500."""
    exc_info = sys.exc_info()
    if got_request_exception.receivers:
        got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=e)
    propagate = app.config["PROPAGATE_EXCEPTIONS"]
    if propagate is None:
        propagate = app.testing or app.debug
    if propagate:
        if exc_info[1] is e:
            raise
        raise e
    app.log_exception(exc_info)
    server_error: t.Any = InternalServerError(original_exception=e)
    handler = find_error_handler(app, plan, server_error)
    if handler is not None:
        server_error = call(handler, server_error)
        if type(server_error) is CoroutineType:
            server_error = await server_error
    return await finalize(app, ctx, plan, server_error, call, from_error_handler=True)


def current_plan(app: Erlen) -> Plan:
    """The plan of the active request (for the public sync pipeline methods)."""
    ctx = _ctx_get()
    return app._plan_for(ctx.request.endpoint if ctx.request is not None else None)
