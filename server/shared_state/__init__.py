"""The hub's state shared in Redis (``FORMSYNC_HUB_REDIS_URL``): several hub processes and machines
serve the same cameras. Without it the hub keeps its state in memory and in SQLite (one hub)."""
