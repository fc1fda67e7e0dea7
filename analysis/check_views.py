"""Which views each form check can be trusted in, and how far: one table read by the checks
(``analysis.faults``) and by the multi-camera fusion (``analysis.fusion``).

A check runs only in the views it lists, with that confidence; "low" marks a measure that rests on
MediaPipe's learnt depth (world z) in that view. Why each view is trusted: ``analysis.faults``'
module docstring. No dependency beyond the view names, so the dashboard can fuse cameras' verdicts
without the analysis's own packages (MediaPipe, dtaidistance).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from analysis.view import FRONT, OBLIQUE, SIDE

HIGH, LOW = "high", "low"

CHECK_VIEWS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "depth_not_reached": MappingProxyType({SIDE: HIGH, OBLIQUE: HIGH, FRONT: LOW}),
    "knees_caving": MappingProxyType({FRONT: HIGH}),
    "forward_lean": MappingProxyType({SIDE: HIGH, OBLIQUE: HIGH, FRONT: LOW}),
    "heels_rising": MappingProxyType({SIDE: HIGH, OBLIQUE: LOW, FRONT: LOW}),
    "asymmetry": MappingProxyType({FRONT: HIGH}),
})
"""Check name -> {view: confidence}, in the order the checks are reported."""
