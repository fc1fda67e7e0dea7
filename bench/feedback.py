"""Feedback latency: offline coaching end to end, and time to the first streamed token.

    .venv/bin/python -m bench.feedback                 # offline + the local streaming stub (~30 s)
    .venv/bin/python -m bench.feedback --runs 50 --json
    FORMSYNC_FEEDBACK_PROVIDER=openai FORMSYNC_FEEDBACK_OPENAI_BASE_URL=http://127.0.0.1:8080/v1 \\
        .venv/bin/python -m bench.feedback --configured   # also a real LLM server

Measures, over the example sets of ``rag_data/eval/sets/`` (store: FORMSYNC_FEEDBACK_STORE_PATH,
ingested on first use):
  offline: ``chain.invoke`` with the offline composer = query + retrieval (embedding + chromadb) +
           composer, ms (target < 300 ms);
  stub:    request to first answer piece through the OpenAI-compatible path against a local server
           that streams at once: FormSync's own overhead (retrieval, prompt, HTTP, SSE parsing), ms;
  configured (``--configured``): the same against the configured LLM, after one warm-up request so a
           model load is excluded (target < 2000 ms).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from feedback.evaluate import load_sets
from feedback.service import build_service
from feedback.settings import FeedbackSettings
from tests.feedback.openai_server import ChatServer, answer

ROOT = Path(__file__).resolve().parent.parent


def first_token_ms(service, summaries, runs: int, warmup: int = 1) -> list[float]:
    chain, out = service.chain(), []
    for i in range(runs + warmup):
        started = time.perf_counter()
        for part in chain.stream({"summary": summaries[i % len(summaries)]}):
            if part.get("answer"):
                if i >= warmup:
                    out.append((time.perf_counter() - started) * 1e3)
                break
    return out


def stats(values: list[float]) -> dict:
    return (
        {
            "p50": round(float(np.percentile(values, 50)), 1),
            "p95": round(float(np.percentile(values, 95)), 1),
            "runs": len(values),
        }
        if values
        else {"runs": 0}
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--configured", action="store_true", help="also measure the configured LLM provider")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    settings = FeedbackSettings()
    summaries = load_sets(settings.docs_dir / "eval" / "sets")
    offline = build_service(settings, use_settings_llm=False)
    offline.chain().invoke({"summary": summaries[0]})  # loads the embedding model: not a latency
    times = []
    for i in range(args.runs):
        started = time.perf_counter()
        offline.chain().invoke({"summary": summaries[i % len(summaries)]})
        times.append((time.perf_counter() - started) * 1e3)
    results = {"offline_feedback_ms": stats(times)}

    with ChatServer([answer("Keep your knees over your toes. " * 8, size=8)]) as server:
        stub = FeedbackSettings(
            **{
                **settings.model_dump(),
                "provider": "openai",
                "openai_base_url": server.base_url,
                "openai_model": "stub",
            }
        )
        results["first_token_stub_ms"] = stats(first_token_ms(build_service(stub), summaries, args.runs))
    if args.configured and settings.provider != "offline":
        results["first_token_configured_ms"] = stats(
            first_token_ms(build_service(settings), summaries, args.runs)
        )

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, s in results.items():
            print(
                f"{name}: "
                + (f"p50 {s['p50']} ms, p95 {s['p95']} ms over {s['runs']} runs" if s["runs"] else "n/a")
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
