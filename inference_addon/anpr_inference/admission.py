"""Admission control: how many recognitions are in flight, how many body bytes are held."""

from __future__ import annotations

import threading

from .apierrors import overloaded


class Load:
    """Counts admitted and running recognitions.

    Admission happens on the event loop, release in whatever thread finishes the work, hence
    the lock.
    """

    def __init__(self, capacity: int) -> None:
        """Allow `capacity` recognitions in flight (workers plus queue)."""
        self.capacity = capacity
        self._lock = threading.Lock()
        self._admitted = 0
        self._running = 0

    def try_admit(self) -> bool:
        """Take a slot if one is free; False means answer 503."""
        with self._lock:
            if self._admitted >= self.capacity:
                return False
            self._admitted += 1
            return True

    def release(self) -> None:
        """Free a slot (the work is done or was cancelled)."""
        with self._lock:
            self._admitted -= 1

    def start(self) -> None:
        """Note that a worker has started on an admitted recognition."""
        with self._lock:
            self._running += 1

    def finish(self) -> None:
        """Note that a worker is done with it."""
        with self._lock:
            self._running -= 1

    @property
    def admitted(self) -> int:
        """Recognitions in flight: queued or running."""
        return self._admitted

    @property
    def saturated(self) -> bool:
        """Whether every slot is taken (the next recognition would get 503)."""
        return self._admitted >= self.capacity

    @property
    def waiting(self) -> int:
        """Recognitions admitted but not running on a worker (yet)."""
        with self._lock:
            return max(0, self._admitted - self._running)


class BodyBudget:
    """Bytes of bodies being received, bounded (used on the event loop only)."""

    def __init__(self, limit: int) -> None:
        """Allow `limit` bytes of bodies being received at once."""
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> None:
        """Count `size` more bytes held, or refuse with 503 when the budget is spent."""
        if self.held + size > self.limit:
            raise overloaded("too many uploads are being received at once; try again shortly")
        self.held += size

    def give(self, size: int) -> None:
        """Return bytes no longer held by a body being received."""
        self.held -= size
