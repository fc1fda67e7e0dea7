"""The offline path: a video file through ``PoseAnalyzer`` frame by frame, exactly like live frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analysis.session import AnalysisResult, PoseAnalyzer
from analysis.video import VideoInfo, frames, probe


@dataclass
class VideoRun:
    info: VideoInfo
    analyzer: PoseAnalyzer
    results: list[AnalysisResult]


def analyze_video(path: str | Path, analyzer: PoseAnalyzer, progress: bool = False) -> VideoRun:
    """Feed every frame of ``path`` to ``analyzer.process``; returns the per-frame results.

    The analyzer is left open (call ``analyzer.close()``). Raises FileNotFoundError / ValueError
    for an unreadable video.
    """
    info = probe(path)
    it = frames(path)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, total=info.frame_count or None, desc=Path(path).name, unit="frame")
    results = [analyzer.process(frame, t_ns, seq) for frame, t_ns, seq in it]
    return VideoRun(info, analyzer, results)
