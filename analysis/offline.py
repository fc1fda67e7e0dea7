"""The offline path: a video file through ``PoseAnalyzer`` frame by frame, exactly like live frames."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.session import AnalysisResult, PoseAnalyzer
from analysis.video import VideoInfo, frames, probe


@dataclass
class VideoRun:
    info: VideoInfo
    analyzer: PoseAnalyzer
    results: list[AnalysisResult]


def analyze_video(path: str | Path, analyzer: PoseAnalyzer, progress: bool = False,
                  on_frame: Callable[[np.ndarray, int, int], None] | None = None) -> VideoRun:
    """Feed every frame of ``path`` to ``analyzer.process``; returns the per-frame results.

    progress: a tqdm bar on stderr. on_frame(frame_bgr, seq, frame_count) is called after each
    frame (frame_count 0 when the container does not say), e.g. to save thumbnails or move a
    ``st.progress`` bar. The analyzer is left open (call ``analyzer.close()``). Raises
    FileNotFoundError / ValueError for an unreadable video.
    """
    info = probe(path)
    it = frames(path)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, total=info.frame_count or None, desc=Path(path).name, unit="frame")
    results = []
    for frame, t_ns, seq in it:
        results.append(analyzer.process(frame, t_ns, seq))
        if on_frame is not None:
            on_frame(frame, seq, info.frame_count or 0)
    return VideoRun(info, analyzer, results)
