"""Warnings of the background work (the send engine, the feedback server) as toasts, never on stderr.

The app draws on stderr: a log line written there would tear the screen.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from textual.app import App

LOGGERS = ("campaigns", "uvicorn", "uvicorn.error")


class ToastHandler(logging.Handler):
    def __init__(self, app: App[object]) -> None:
        super().__init__(level=logging.WARNING)
        self.app = app
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a bad format string must not take the app down
            text = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        severity = "error" if record.levelno >= logging.ERROR else "warning"
        if threading.get_ident() == self.thread:
            self.app.notify(text, severity=severity, timeout=10)
        else:
            with contextlib.suppress(RuntimeError):  # the app is not running any more
                self.app.call_from_thread(self.app.notify, text, severity=severity, timeout=10)


def route_logs_to_toasts(app: App[object]) -> None:
    """From now on, warnings of the background work show as toasts; nothing reaches stderr."""
    handler = ToastHandler(app)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not isinstance(h, ToastHandler)] + [handler]
        logger.propagate = False
