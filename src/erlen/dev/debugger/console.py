"""Evaluation for the debugger console: one namespace per frame, output captured.

Source is parsed as a module; when its last statement is an expression, that
expression's value is shown (its repr), as in the interactive interpreter.
Top-level ``await`` works: the coroutine runs on a private event loop. The
app/request context of the failed request is active while code runs.
"""

from __future__ import annotations

import ast
import asyncio
import contextvars
import inspect
import io
import sys
import threading
import traceback
import typing as t

from ...globals import _ctx_set

#: Output longer than this is cut, so a huge print can't flood the page.
MAX_OUTPUT = 200_000
_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


class _ThreadLocalCapture:
    """Routes writes of the evaluating thread to its buffer, others to the real stream.

    Installed on ``sys.stdout``/``sys.stderr`` only while some evaluation runs,
    so prints from other requests' threads are not swallowed.
    """

    def __init__(self, fallback: t.TextIO, local: threading.local, attr: str) -> None:
        self._fallback = fallback
        self._local = local
        self._attr = attr

    def _target(self) -> t.Any:
        buffer = getattr(self._local, self._attr, None)
        return self._fallback if buffer is None else buffer

    def write(self, s: str) -> int:
        return int(self._target().write(s))

    def writelines(self, lines: t.Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self._fallback, name)


_local = threading.local()
_install_lock = threading.Lock()
_active = 0
_saved: tuple[t.Any, t.Any] | None = None


def _install() -> None:
    global _active, _saved
    with _install_lock:
        if _active == 0:
            _saved = (sys.stdout, sys.stderr)
            sys.stdout = t.cast(t.TextIO, _ThreadLocalCapture(sys.stdout, _local, "buffer"))
            sys.stderr = t.cast(t.TextIO, _ThreadLocalCapture(sys.stderr, _local, "buffer"))
        _active += 1


def _uninstall() -> None:
    global _active, _saved
    with _install_lock:
        _active -= 1
        if _active == 0 and _saved is not None:
            sys.stdout, sys.stderr = _saved
            _saved = None


def _format_error(exc: BaseException) -> str:
    # Drop this module's own frames: the user wants their code's traceback.
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


class Console:
    """A namespace to evaluate code in, with an optional context to activate."""

    def __init__(
        self,
        globals: dict[str, t.Any] | None = None,
        locals: t.Mapping[str, t.Any] | None = None,
        context: t.Any = None,
    ) -> None:
        # One dict holding the frame's globals and a copy of its locals, so
        # comprehensions and lambdas typed in the console see the locals too.
        namespace: dict[str, t.Any] = dict(globals or {})
        namespace.update(locals or {})
        namespace.setdefault("__builtins__", __builtins__)
        self.namespace = namespace
        self.context = context
        self._lock = threading.Lock()

    def eval(self, source: str) -> str:
        """Run ``source``; return everything it printed, its value's repr, or its error."""
        buffer = io.StringIO()
        with self._lock:
            _install()
            _local.buffer = buffer
            try:
                contextvars.copy_context().run(self._run, source, buffer)
            finally:
                _local.buffer = None
                _uninstall()
        output = buffer.getvalue()
        if len(output) > MAX_OUTPUT:
            output = output[:MAX_OUTPUT] + f"\n... output cut at {MAX_OUTPUT} characters\n"
        return output

    def _run(self, source: str, buffer: io.StringIO) -> None:
        if self.context is not None:
            # The failed request's context, active only inside this copied context.
            _ctx_set(self.context)
        try:
            tree = ast.parse(source, "<debugger>", "exec")
        except SyntaxError as e:
            buffer.write("".join(traceback.format_exception_only(type(e), e)))
            return
        last: ast.Expression | None = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body[-1].value)
            del tree.body[-1]
        try:
            if tree.body:
                code = compile(tree, "<debugger>", "exec", flags=_FLAGS)
                self._finish(code, eval(code, self.namespace))
            if last is not None:
                code = compile(last, "<debugger>", "eval", flags=_FLAGS)
                value = self._finish(code, eval(code, self.namespace))
                if value is not None:
                    self.namespace["_"] = value
                    try:
                        text = repr(value)
                    except Exception as e:
                        text = f"<repr failed: {type(e).__name__}: {e}>"
                    buffer.write(text + "\n")
        except Exception as e:
            buffer.write(_format_error(e))
        except (KeyboardInterrupt, SystemExit) as e:
            # exit() or quit() typed in the console must not stop the server.
            buffer.write(f"{type(e).__name__} ignored: the console can't stop the server.\n")

    def _finish(self, code: t.Any, value: t.Any) -> t.Any:
        if code.co_flags & inspect.CO_COROUTINE:
            # A private loop: never the thread's loop, which erlen may own.
            with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
                return runner.run(value, context=contextvars.copy_context())
        return value
