"""The hub's references ("answer sheets"): the store of built references and the chosen one
(``store``), and the queue of build jobs the workers take (``jobs``). Both are interfaces with an
embedded implementation (SQLite for metadata, files under ``FORMSYNC_HUB_REFERENCE_DIR`` for data,
pictures and videos)."""
