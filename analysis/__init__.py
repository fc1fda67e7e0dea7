"""FormSync analysis core: pose, joint angles, reps, scoring against a reference, form faults.

Entry points: ``analysis.session.PoseAnalyzer`` (one per camera, one frame at a time),
``analysis.reference.ReferenceLibrary`` (the answer sheets) and ``python -m analysis`` (offline).
Submodules are imported on use so that ``import analysis`` stays light (MediaPipe loads only when a
``PoseEstimator`` is created).
"""
