"""The hub API's wire contract, defined once for the hub, the camera client, the analysis worker
and the dashboard (docs/api.md describes the same shapes for people).

One module per concern:

| module | what |
|---|---|
| ``base`` | ``Wire`` (strict, frozen) and ``read`` (tolerant), bounded number types |
| ``errors`` | the error body and reading it back |
| ``frames`` | frame metadata and headers, cameras, the WebSocket ingest header and ack, the clock |
| ``sync`` | synchronised sets |
| ``analysis`` | a frame's analysis result: landmarks, angles, rep state, faults |
| ``sets`` | set summaries |
| ``gaze`` | gaze and attention, calibration requests |
| ``references`` | references (answer sheets): metadata, the chosen one, build jobs |
| ``monitoring`` | heartbeats and alerts |
| ``events`` | the event stream's messages |

Nothing here imports a role's package: every machine installs it (``pydantic`` only).
"""
