"""RAG-grounded coaching feedback for a finished set.

Pipeline: ``documents`` (Markdown knowledge base in ``rag_data/`` with front matter) ->
``chunking`` (langchain text splitters) -> ``embeddings`` (all-MiniLM-L6-v2, offline) ->
``store`` (embedded chromadb) -> ``retriever`` -> ``chain.build_feedback_chain(retriever, llm)``,
with ``query`` (what to look up for a ``summary.SetSummary``), ``providers`` (offline composer,
OpenAI-compatible server, Ollama), ``citations`` and ``ratelimit``. Command line: ``python -m feedback``.

Submodules are imported on use: torch and chromadb load only when a store or the model is opened.
"""
