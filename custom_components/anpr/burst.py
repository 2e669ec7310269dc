"""A burst: several frames of one camera, read by the service and combined by voting.

Its own module because this is where a scan's failures are judged (the camera watcher only
decides when to scan). A gate must never open because something failed, so:

* A frame the camera could not give (an error, a timeout, bytes that are no image) or that the
  service rejected (400: the camera sent a broken image) is skipped, with a warning logged once
  until the camera recovers. The burst is only trusted when a majority of its frames were
  read (`quorum`): one lost frame of three still leaves a vote; more, and the burst fails.
* An unreachable or failing service (network errors, timeouts, 5xx, answers that are not the
  API's JSON) is retried with backoff (`scanner.RETRY_DELAYS`); when the retries are used up
  the service is down: the burst fails as a whole (nothing is decided on the frames read
  before), and the health coordinator marks every entity unavailable.
* A busy service (503 `overloaded`) is retried after its `Retry-After` (at most
  `scanner.MAX_RETRY_AFTER`); if it stays busy the burst stops adding to its queue and votes
  on what it read. Busy is not down: the entities stay available.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .api import (
    AnprAuthenticationError,
    AnprConnectionError,
    AnprError,
    AnprOverloadedError,
    AnprResponseError,
)
from .const import DOMAIN
from .scanner import ScanError
from .voting import vote

if TYPE_CHECKING:
    from collections.abc import Callable

    from .api import Recognition
    from .scanner import FrameScanner
    from .settings import CameraSettings
    from .voting import VotedPlate


class ServiceHealth(Protocol):
    """What a burst tells and asks the service's health coordinator."""

    @property
    def last_update_success(self) -> bool:
        """Whether the service answered its last health check."""

    def async_set_update_error(self, err: Exception) -> None:
        """Mark the service down: every entity becomes unavailable."""

    async def async_request_refresh(self) -> None:
        """Check the service's health again soon."""


def quorum(burst_frames: int) -> int:
    """Return how many frames of a burst must be read for its result to count: a majority.

    Voting is what outvotes a misread frame; with fewer than half the frames there is no
    majority left to do that, so such a burst fails instead of deciding on partial data.
    """
    return burst_frames // 2 + 1


@dataclass(frozen=True, slots=True)
class BurstReading:
    """What the frames of one burst read, voted."""

    frames: int
    """Frames that reached the service and were read."""
    plates: list[VotedPlate]
    """The voted plates at or above the camera's confidence threshold."""
    inference_ms: float
    """Mean time the service spent per frame."""


@dataclass(frozen=True, slots=True)
class _Skipped:
    """A frame that was not read, and why; `stop`: the service stays busy, vote now."""

    error: ScanError
    stop: bool = False


class Burst:
    """Reads a burst of frames of one camera and votes on them."""

    def __init__(
        self,
        scanner: FrameScanner,
        settings: CameraSettings,
        health: ServiceHealth,
        start_reauth: Callable[[], None],
    ) -> None:
        """Read frames with `scanner`; report an outage to `health`, a bad key to `start_reauth`."""
        self.scanner = scanner
        self.settings = settings
        self.health = health
        self.start_reauth = start_reauth

    @property
    def entity_id(self) -> str:
        """The camera's entity id."""
        return self.settings.entity_id

    async def async_read(self) -> BurstReading:
        """Read the burst's frames and vote; raise `ScanError` when too few were read."""
        settings = self.settings
        frames: list[Recognition] = []
        failure: ScanError | None = None
        for index in range(settings.burst_frames):
            if index and settings.burst_interval:
                await asyncio.sleep(settings.burst_interval)
            outcome = await self._async_frame(len(frames))
            if isinstance(outcome, _Skipped):
                failure = outcome.error
                if outcome.stop:
                    break
                continue
            frames.append(outcome)
        if frames and not self.health.last_update_success:
            await self.health.async_request_refresh()
        if len(frames) < quorum(settings.burst_frames):
            # Every frame that was not read left its reason in `failure`.
            assert failure is not None  # noqa: S101
            if not frames:
                raise failure
            raise ScanError(
                translation_domain=DOMAIN,
                translation_key="too_few_frames",
                translation_placeholders={
                    "camera": self.entity_id,
                    "read": str(len(frames)),
                    "frames": str(settings.burst_frames),
                    "error": str(failure),
                },
            ) from failure
        if failure is None:
            self.scanner.async_clear_problem()
        return BurstReading(
            frames=len(frames),
            plates=[
                plate
                for plate in vote([frame.plates for frame in frames])
                if plate.confidence >= settings.min_confidence
            ],
            inference_ms=round(sum(frame.total_ms for frame in frames) / len(frames), 1),
        )

    async def _async_frame(self, read: int) -> Recognition | _Skipped:
        """Read one frame (`read` frames were read before it), or say why it was skipped.

        Raises `ScanError` when the whole burst fails: the key was rejected, or the service
        is down.
        """
        snapshot = await self.scanner.async_snapshot()
        if snapshot is None:
            return _Skipped(
                ScanError(
                    translation_domain=DOMAIN,
                    translation_key="camera_failed",
                    translation_placeholders={"camera": self.entity_id},
                )
            )
        try:
            return await self.scanner.async_recognize(*snapshot)
        except AnprAuthenticationError as err:
            self.start_reauth()
            raise ScanError(translation_domain=DOMAIN, translation_key="invalid_auth") from err
        except AnprOverloadedError as err:
            # Busy, not down (its health check answers): stop adding to its queue.
            self.scanner.async_report_problem(
                f"the inference service is busy; the burst of {self.entity_id} stopped "
                f"after {read} of {self.settings.burst_frames} frames: {err}"
            )
            return _Skipped(
                ScanError(
                    translation_domain=DOMAIN,
                    translation_key="service_busy",
                    translation_placeholders={"error": str(err)},
                ),
                stop=True,
            )
        except (AnprConnectionError, AnprResponseError) as err:
            # Retries are used up: the service is down or broken. The coordinator marks
            # every entity unavailable and logs the outage once.
            self.health.async_set_update_error(err)
            raise ScanError(
                translation_domain=DOMAIN,
                translation_key="service_unavailable",
                translation_placeholders={"error": str(err)},
            ) from err
        except AnprError as err:
            self.scanner.async_report_problem(
                f"the inference service rejected a frame from {self.entity_id}: {err}"
            )
            return _Skipped(
                ScanError(
                    translation_domain=DOMAIN,
                    translation_key="frame_rejected",
                    translation_placeholders={"camera": self.entity_id, "error": str(err)},
                )
            )
