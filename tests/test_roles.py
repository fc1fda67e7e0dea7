"""Each role installs alone: its entry points import only what its extra installs (pyproject.toml).

Per role, a fresh interpreter makes the packages that only other roles install unimportable (a
meta-path finder that raises ``ModuleNotFoundError`` for them, as on a machine without them), then
imports the role's entry points and runs its console script's ``--help``. A stray import of a
heavy package fails here, naming the import chain, instead of on a camera machine.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Top-level modules of what each extra brings that the others do not (checked against fresh venvs
# of each role: pip install ".[role]" -c constraints.txt).
HUB_ONLY = {"fastapi", "prometheus_client"}
SERVER_STACK = {"starlette", "uvicorn", "websockets", "httptools", "uvloop"}  # hub; the dashboard's Streamlit too
WORKER_ONLY = {"mediapipe", "jax", "jaxlib", "dtaidistance", "sklearn", "scipy", "matplotlib", "tqdm"}
DASHBOARD_ONLY = {"streamlit", "streamlit_webrtc", "aiortc", "av", "altair", "pandas", "pyarrow", "pydeck"}
FEEDBACK_ONLY = {"torch", "sentence_transformers", "transformers", "chromadb", "langchain", "langchain_core",
                 "langchain_chroma", "langchain_openai", "langchain_ollama", "langchain_text_splitters"}
TEST_TOOLS = {"httpx", "pytest", "hypothesis", "schemathesis", "playwright", "zmq", "imagezmq"}

ROLES = {
    # role: (blocked top-level modules, modules to import, console-script mains run with --help)
    "camera": (HUB_ONLY | SERVER_STACK | WORKER_ONLY | DASHBOARD_ONLY | FEEDBACK_ONLY | TEST_TOOLS | {"PIL"},
               ["webcam_client", "clients.cli"], ["clients.cli:main"]),
    "hub": (WORKER_ONLY | DASHBOARD_ONLY | FEEDBACK_ONLY | TEST_TOOLS | {"cv2"},
            ["fastapi_server", "server.cli", "server.app"], ["server.cli:main"]),
    "worker": (HUB_ONLY | SERVER_STACK | DASHBOARD_ONLY | FEEDBACK_ONLY | TEST_TOOLS | {"yaml"},
               # default_analyzer, the hub's references and build jobs import these when the worker runs
               ["analysis.worker", "analysis.combined", "analysis.gaze.analyzer", "analysis.session",
                "analysis.reference", "analysis.worker_references", "analysis.reference_jobs"],
               ["analysis.worker:main"]),
    "dashboard": (HUB_ONLY | WORKER_ONLY | FEEDBACK_ONLY | TEST_TOOLS,
                  ["streamlit_app.serve", "streamlit.web.cli", "streamlit_app.monitor.banner",
                   "streamlit_app.live.page", "streamlit_app.monitor.page", "streamlit_app.gaze.page",
                   "streamlit_app.browser_camera.page", "streamlit_app.coach.page"], []),
    # The Feedback page needs the feedback extra beside the dashboard's (README, "Running on several machines").
    # sentence-transformers brings scikit-learn, scipy and tqdm, chromadb httpx.
    "dashboard+feedback": (HUB_ONLY | (WORKER_ONLY - {"sklearn", "scipy", "tqdm"}) | (TEST_TOOLS - {"httpx"}),
                           ["streamlit_app.feedback.page", "feedback.cli"], []),
}

SCRIPT = textwrap.dedent('''
    import importlib, sys

    BLOCKED = frozenset({blocked!r})

    class NotInstalled:
        """Refuses the other roles' packages, as a machine without them would."""

        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}} (not installed by this role's extra)",
                                          name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
    for module in {modules!r}:
        importlib.import_module(module)
    for entry in {mains!r}:
        module, _, func = entry.partition(":")
        try:
            getattr(importlib.import_module(module), func)(["--help"])
        except SystemExit as exc:
            assert exc.code in (0, None), f"{{entry}} --help exited with {{exc.code}}"
        else:
            raise AssertionError(f"{{entry}} --help did not exit")
    leaked = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    assert not leaked, leaked
    print("ok")
''')


def run_as_role(blocked: set[str], modules: list[str], mains: list[str]) -> subprocess.CompletedProcess:
    code = SCRIPT.format(blocked=sorted(blocked), modules=modules, mains=mains)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize("role", ["camera", "hub", "worker", "dashboard", "dashboard+feedback"])
def test_a_roles_entry_points_import_only_what_its_extra_installs(role):
    blocked, modules, mains = ROLES[role]
    done = run_as_role(blocked, modules, mains)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def test_a_stray_import_fails_the_check():
    done = run_as_role({"numpy"}, ["analysis.fusion"], [])
    assert done.returncode != 0 and "not installed by this role's extra" in done.stderr
