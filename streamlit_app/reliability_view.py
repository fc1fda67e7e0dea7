"""What the pages say when part of the pipeline fails: stale analysis results, sets the hub could
not save yet. Pure text helpers (no Streamlit), tested alone."""

from __future__ import annotations

from streamlit_app.models import SetSaving


def stale_analysis_message(since_ns: int | None, now_ns: int) -> str | None:
    """``"No analysis result for 7 s …"`` when the hub reported the camera's results stale
    (``since_ns``: when the last one reached the hub, this machine's clock); None while fresh."""
    if since_ns is None:
        return None
    age_s = max(0.0, (now_ns - since_ns) / 1e9)
    return (f"No analysis result for {age_s:.0f} s: the figures below are stale. Is "
            "`python -m analysis.worker` running? A restarted worker resumes by itself.")


def unsaved_sets_message(saving: SetSaving) -> str | None:
    """The warning for closed sets the hub's database refused; None when everything is saved."""
    if not saving.unsaved:
        return None
    why = f" ({saving.error})" if saving.error else ""
    return (f"{saving.unsaved} finished set(s) could not be saved to the hub's database yet{why}. "
            "The hub keeps them in memory and saves them on its next try: nothing is lost while it runs.")
