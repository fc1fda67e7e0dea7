"""A worker process for lease tests: the real ``AnalysisWorker`` with a ``RepEveryFrame`` per
camera (no MediaPipe), so a test can kill -9 it.

``python -m tests.analysis.lease_worker HUB_URL WORKER_ID LEASE_TTL_MS MAX_CAMERAS SPOOL_DIR``
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from analysis.worker import AnalysisWorker
from tests.analysis.test_worker_set_delivery import RepEveryFrame


def main() -> None:
    hub_url, worker_id, ttl_ms, max_cameras, spool = sys.argv[1:6]
    worker = AnalysisWorker(hub_url, lambda cam: RepEveryFrame(), worker_id=worker_id, spool_dir=Path(spool),
                            max_cameras=int(max_cameras), lease_ttl_ms=int(ttl_ms))

    async def amain() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await worker.run(stop)

    asyncio.run(amain())


if __name__ == "__main__":
    main()
