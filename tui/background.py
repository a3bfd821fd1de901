"""Running store calls off the event loop, each in a thread with its own database connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _in_connection(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    from store.db import connection

    with connection():
        return function(*args, **kwargs)


async def off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Awaits a blocking store call; the screen keeps drawing and taking keys meanwhile."""
    return await asyncio.to_thread(_in_connection, function, *args, **kwargs)
