"""Warnings of the background work (the send engine, the feedback server) as toasts, never on stderr.

The app draws on stderr: a log line written there would tear the screen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.message import Message

LOGGERS = ("campaigns", "uvicorn", "uvicorn.error")


@dataclass
class BackgroundWarning(Message):
    text: str
    severity: str


class ToastHandler(logging.Handler):
    """Posts each record to the app as a message: thread-safe, and never waits for the screen."""

    def __init__(self, app: App[Any]) -> None:
        super().__init__(level=logging.WARNING)
        self.app = app

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "campaigns.send" and record.levelno < logging.ERROR:
            return  # a campaign waiting for its provider: the summary says so, whoever sends it
        try:
            text = record.getMessage()
        except Exception:  # a bad format string must not take the app down
            text = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        severity = "error" if record.levelno >= logging.ERROR else "warning"
        self.app.post_message(BackgroundWarning(text, severity))


def route_logs_to_toasts(app: App[Any]) -> ToastHandler:
    """From now on, warnings of the background work show as toasts; nothing reaches stderr."""
    handler = ToastHandler(app)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.propagate = False
    return handler


def stop_routing(handler: ToastHandler) -> None:
    """Back to the usual logging, once the app is gone."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.removeHandler(handler)
        if not any(isinstance(h, ToastHandler) for h in logger.handlers):
            logger.propagate = True
