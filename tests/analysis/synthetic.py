"""Stick-figure poses with known geometry, as MediaPipe-shaped landmark arrays.

World frame as MediaPipe's: metres, origin at the hip midpoint, y down, z = forward of the body.
The image is a parallel projection onto a square 1000x1000 frame (0.3 image heights per metre),
seen from the side (image x = world z) or from the front (image x = world x), with the toes on a
fixed floor line as a real camera sees them (the hips, not the feet, go down in a squat).
"""

from __future__ import annotations

import numpy as np

from analysis.features import FrameFeatures
from analysis.landmarks import LM
from analysis.pose import PoseFrame

THIGH, SHIN, TORSO, FOOT = 0.42, 0.42, 0.50, 0.20
LEG = THIGH + SHIN
FLOOR_Y = 0.85
"""Image y of the toe tips."""


def _r(deg: float) -> float:
    return np.radians(deg)


def world_pose(thigh_above_parallel: float = 90.0, shin_lean=(0.0, 0.0), trunk_lean: float = 0.0,
               ankle_half_width: float = 0.12, knee_half_width: float | None = None,
               heel_lift: float = 0.0, shoulder_half_width: float = 0.12, hip_shift: float = 0.0) -> np.ndarray:
    """(33, 4) world landmarks. thigh_above_parallel: 90 standing, 0 thighs parallel;
    shin_lean (left, right) degrees from vertical (knee forward of ankle); trunk_lean degrees from
    vertical; knee_half_width: knees' |x| (default = ankles'); heel_lift: heel above the toe tip, metres
    (the toes stay on the floor); leg length (thigh + shin) is ``LEG`` = 0.84 m;
    shoulder_half_width: shoulders' |x|; hip_shift: the hips and everything above them moved
    sideways by this many metres over fixed feet (knees half as far)."""
    w = np.zeros((33, 4))
    w[:, 3] = 1.0
    kx = ankle_half_width if knee_half_width is None else knee_half_width
    th = _r(thigh_above_parallel)
    for sgn, side, lean in ((1, "LEFT", shin_lean[0]), (-1, "RIGHT", shin_lean[1])):
        hip = np.array([sgn * 0.12 + hip_shift, 0.0, 0.0])
        knee = hip + THIGH * np.array([0.0, np.sin(th), np.cos(th)])
        knee[0] = sgn * kx + hip_shift / 2
        ph = _r(lean)
        ankle = knee + SHIN * np.array([0.0, np.cos(ph), -np.sin(ph)])
        ankle[0] = sgn * ankle_half_width
        toe = ankle + np.array([0.0, 0.07, 0.14])
        heel = toe + np.array([0.0, -heel_lift, -np.sqrt(FOOT ** 2 - heel_lift ** 2)])
        sh = np.array([sgn * shoulder_half_width + hip_shift, 0, 0]) + TORSO * np.array(
            [0.0, -np.cos(_r(trunk_lean)), np.sin(_r(trunk_lean))])
        for name, pt in (("HIP", hip), ("KNEE", knee), ("ANKLE", ankle), ("FOOT_INDEX", toe), ("HEEL", heel),
                         ("SHOULDER", sh), ("ELBOW", sh + [0, 0.25, 0]), ("WRIST", sh + [0, 0.5, 0])):
            w[LM[f"{side}_{name}"], :3] = pt
    head = (w[LM.LEFT_SHOULDER, :3] + w[LM.RIGHT_SHOULDER, :3]) / 2 + [0, -0.2, 0.05]
    for lm in LM:
        if w[lm, :3].any() or lm in (LM.LEFT_HIP, LM.RIGHT_HIP):
            continue
        w[lm, :3] = head
    return w


def project(world: np.ndarray, view: str = "side") -> np.ndarray:
    """(33, 4) image landmarks (x, y in 0..1, z, visibility) of a world pose."""
    img = np.zeros((33, 4))
    horiz = world[:, 2] if view == "side" else world[:, 0]
    toes = (world[LM.LEFT_FOOT_INDEX, 1] + world[LM.RIGHT_FOOT_INDEX, 1]) / 2
    img[:, 0] = 0.5 + 0.3 * horiz
    img[:, 1] = FLOOR_Y + 0.3 * (world[:, 1] - toes)
    img[:, 3] = world[:, 3]
    return img


def frame(world: np.ndarray, view: str = "side", index: int = 0) -> FrameFeatures:
    pose = PoseFrame(project(world, view).astype(np.float32), world.astype(np.float32), (1000, 1000))
    return FrameFeatures.from_pose(pose, index, index)
