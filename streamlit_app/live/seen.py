"""Per-session bookkeeping of which frame versions a page has shown (kept in st.session_state)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class SeenFrames:
    """Remembers, per camera, the last ``Latest`` version this session rendered and when new
    versions appeared, giving the rate at which this session's page really shows new frames
    (which a slow browser or a long refresh interval holds below the camera's fps).

    Args:
        window_s: span of the display-rate estimate, in seconds.
    """

    window_s: float = 2.0
    _last: dict[str, int] = field(default_factory=dict)
    _times: dict[str, deque[float]] = field(default_factory=dict)

    def observe(self, camera_id: str, version: int, now_s: float) -> bool:
        """Record that ``version`` is being shown at ``now_s`` (monotonic seconds); True if it
        is new to this session. Version 0 (nothing yet) is never new."""
        if version == 0 or self._last.get(camera_id) == version:
            return False
        self._last[camera_id] = version
        self._times.setdefault(camera_id, deque()).append(now_s)
        return True

    def shown_fps(self, camera_id: str, now_s: float) -> float:
        """New frames this session showed per second over the last ``window_s``."""
        times = self._times.get(camera_id)
        if not times:
            return 0.0
        while times and times[0] < now_s - self.window_s:
            times.popleft()
        return len(times) / self.window_s
