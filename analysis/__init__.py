"""FormSync analysis core: pose, joint angles, reps, scoring against a reference, form faults.

Entry points: ``analysis.session.PoseAnalyzer`` (one per camera, one frame at a time),
``analysis.worker`` (the live worker, scoring against the hub's references:
``analysis.worker_references``, building them: ``analysis.reference_jobs``),
``analysis.reference.ReferenceLibrary`` (a worker's own answer sheets, and the offline path's)
and ``python -m analysis`` (offline).
Submodules are imported on use so that ``import analysis`` stays light (MediaPipe loads only when a
``PoseEstimator`` is created).
"""
