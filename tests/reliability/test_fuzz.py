"""schemathesis against the hub's own OpenAPI schema, every operation, with and without a token:
whatever it sends, the hub never answers 5xx. A real hub with authentication on (uvicorn on
loopback). A bounded number of examples per operation here; ``bench/fuzz.sh`` runs many more.

The token used holds every role, so generated requests reach every endpoint's validation; without
it they must all stop at a 401, never a crash. (Each operation's examples are drawn with
``APIOperation.as_strategy()`` inside one test: schemathesis's lazy pytest loader does not run
under pytest 9 yet.)
"""

from __future__ import annotations

import io
import itertools
import zipfile

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from server.auth import make_token
from tests.support import RunningHub

EXAMPLES = 5  # per operation and generation mode with a token: ~25 x 2 x 5 requests; bench/fuzz.sh runs many more
# Without a token the gate answers before any validation, whatever the request holds: two examples
# per operation and mode reach it as surely as many.
EXAMPLES_WITHOUT_TOKEN = 2
TOKEN = make_token()
OPEN = {"/healthz"}  # answers without a token


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return out.getvalue()


# Reference bundles (PUT /references/{name}): random bytes, and ZIPs of random members named as a
# bundle's may be, so generated uploads get past the container into the content checks.
_MEMBER = st.sampled_from(["reference.json", "arrays.npz", "frames/0.jpg", "frames/7.jpg", "other"])
schemathesis.openapi.media_type("application/zip", st.one_of(
    st.binary(max_size=256), st.dictionaries(_MEMBER, st.binary(max_size=256), max_size=4).map(_zip)))


@pytest.fixture(scope="module")
def fuzzed_hub(tmp_path_factory):
    db = tmp_path_factory.mktemp("fuzz") / "hub.db"
    tokens = {"camera_tokens": (TOKEN,), "viewer_tokens": (TOKEN,), "worker_tokens": (TOKEN,)}
    with RunningHub(db_path=str(db), **tokens) as hub:
        yield hub


def fuzz(hub: RunningHub, token: str | None, examples: int = EXAMPLES) -> dict[str, int]:
    """Every operation, ``examples`` valid and ``examples`` invalid generated requests each; returns
    the statuses seen by count.
    Raises (with hypothesis's minimal failing example) on a 5xx or, without a token, a non-401."""
    schema = schemathesis.openapi.from_url(hub.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    statuses: dict[str, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15, [op.label for op in operations]
    for operation, mode in itertools.product(operations, GenerationMode):
        # Positive: valid by the schema, so it reaches the handlers; negative: everything else.
        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case) -> None:
            response = case.call(base_url=hub.url, headers=headers, timeout=10)
            case.validate_response(response, checks=[not_a_server_error])
            if token is None and case.path not in OPEN:
                # call() runs within this iteration, so it sees its own operation.
                assert response.status_code == 401, (operation.label, response.status_code,  # noqa: B023
                                                     response.text[:200])
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1

        try:
            call()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing invalid to send (no parameters, no body)
    return statuses


def test_no_server_error_with_a_token(fuzzed_hub):
    seen = fuzz(fuzzed_hub, TOKEN)
    print(f"statuses with a token: {seen}")
    assert not any(s.startswith("5") for s in seen) and any(s.startswith("2") for s in seen), seen
    assert "403" not in seen  # the token holds every role (401s: negative cases that garble the header)


def test_no_server_error_and_only_401_without_a_token(fuzzed_hub):
    seen = fuzz(fuzzed_hub, None, EXAMPLES_WITHOUT_TOKEN)
    assert set(seen) <= {"401", "200"}, seen
