"""Gaze and attention from a camera's frames: MediaPipe Face Mesh (with iris landmarks), head pose,
iris gaze, blinks, on-target test and a sliding attention score.

Entry point: ``analysis.gaze.analyzer.GazeAnalyzer`` (one per camera, one frame at a time). The
geometry modules (``head_pose``, ``iris``, ``blink``, ``attention``, ``calibration``) are pure NumPy /
OpenCV and never import MediaPipe, so their tests run on synthetic landmark sets.

Angle conventions, shared by every module (degrees, as the camera sees the face):
    yaw    > 0 when the face or eyes turn towards the image's right (the subject's left on an
           unmirrored camera), 0 facing the camera;
    pitch  > 0 when looking up, < 0 looking down;
    roll   > 0 when the head tilts counter-clockwise in the image (its top towards the image's left).
"""
