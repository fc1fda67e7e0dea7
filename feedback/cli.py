"""Command line: ``python -m feedback {ingest,retrieve,summary-feedback,evaluate}``.

    python -m feedback ingest [--rebuild]            build/refresh the store from rag_data/ (idempotent)
    python -m feedback retrieve "QUERY" [--json] [-k N]
    python -m feedback summary-feedback SUMMARY.json [--offline]   (hub SetSummary or analysis output)
    python -m feedback evaluate [--json]

Settings come from ``FORMSYNC_FEEDBACK_*`` (see ``feedback.settings``); ``--store`` overrides the
store path. Exit status: 0 ok, 2 bad input (message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

from pydantic import ValidationError

from feedback.settings import FeedbackSettings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m feedback", description="RAG-grounded coaching feedback.")
    p.add_argument(
        "--store", type=Path, help="chromadb folder (default FORMSYNC_FEEDBACK_STORE_PATH or var/chroma)"
    )
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    sub = p.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="chunk, embed and store the knowledge base (idempotent)")
    ing.add_argument("--rebuild", action="store_true", help="delete the store first")
    ing.add_argument("--docs", type=Path, help="knowledge folder (default rag_data/)")
    ret = sub.add_parser("retrieve", help="print the chunks nearest to a query")
    ret.add_argument("query")
    ret.add_argument("-k", type=int, help="how many chunks (default FORMSYNC_FEEDBACK_TOP_K)")
    ret.add_argument("--json", action="store_true", help="JSON: doc_id, chunk_id, score, text, ...")
    fb = sub.add_parser("summary-feedback", help="print the coaching for a saved set summary")
    fb.add_argument(
        "summary", type=Path, help="SetSummary JSON (GET /api/v1/sets/{id}) or analysis reps --json"
    )
    fb.add_argument("--offline", action="store_true", help="use the offline composer whatever the settings")
    ev = sub.add_parser("evaluate", help="retrieval hit@1/hit@3 and latency, offline feedback latency")
    ev.add_argument("--questions", type=Path, help="question set (default rag_data/eval/questions.yaml)")
    ev.add_argument("--sets", type=Path, help="example set summaries (default rag_data/eval/sets/)")
    ev.add_argument("--repeats", type=int, default=5)
    ev.add_argument("--json", action="store_true")
    return p


def _settings(args) -> FeedbackSettings:
    overrides = {}
    if args.store:
        overrides["store_path"] = args.store
    if getattr(args, "docs", None):
        overrides["docs_dir"] = args.docs
    return FeedbackSettings(**overrides)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = _settings(args)
        return _run(args, settings)
    except ValidationError as exc:
        print(f"error: invalid input or settings:\n{exc}", file=sys.stderr)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 2


def _run(args, settings: FeedbackSettings) -> int:
    from . import service

    if args.command == "ingest":
        if args.rebuild and settings.store_path.exists():
            shutil.rmtree(settings.store_path)
        print(f"{service.ingest(settings, progress=True)} -> {settings.store_path}")
        return 0
    if args.command == "retrieve":
        svc = service.build_service(settings, use_settings_llm=False)
        svc.retriever.k = args.k or settings.top_k
        chunks = svc.retriever.retrieve(args.query)
        if args.json:
            print(json.dumps([c.to_dict() for c in chunks], indent=2, ensure_ascii=False))
        else:
            for c in chunks:
                print(f"[{c.chunk_id}] score {c.score:.3f} {c.title} — {c.section}\n    {c.body[:200]}")
        return 0
    if args.command == "summary-feedback":
        from feedback.summary import load_summary

        summary = load_summary(json.loads(args.summary.read_text(encoding="utf-8")))
        svc = service.build_service(settings, use_settings_llm=not args.offline)
        print(f"provider: {svc.provider}", file=sys.stderr)
        for part in svc.chain().stream({"summary": summary}):
            if "chunks" in part:
                print("sources: " + ", ".join(c.chunk_id for c in part["chunks"]), file=sys.stderr)
            if part.get("answer"):
                sys.stdout.write(part["answer"])
                sys.stdout.flush()
        print()
        return 0
    if args.command == "evaluate":
        from feedback.evaluate import evaluate, format_report, load_questions, load_sets

        svc = service.build_service(settings)
        eval_dir = settings.docs_dir / "eval"
        report = evaluate(
            svc,
            load_questions(args.questions or eval_dir / "questions.yaml"),
            load_sets(args.sets or eval_dir / "sets"),
            repeats=args.repeats,
        )
        print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report, svc.provider))
        return 0
    raise AssertionError(args.command)
