"""Running several cameras in one process, stopped together by SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading

from clients.camera import CameraWorker
from clients.config import ClientConfig
from clients.heartbeat import start_heartbeat

log = logging.getLogger("formsync.client")

# What the client promises: every camera thread is gone within 2 s of SIGINT/SIGTERM.
STOP_TIMEOUT_S = 2.0


def start_workers(config: ClientConfig) -> list[CameraWorker]:
    workers = [
        CameraWorker(cam, config)
        for cam in config.cameras
    ]
    for w in workers:
        w.start()
    return workers


def stop_workers(workers: list[CameraWorker], timeout_s: float = STOP_TIMEOUT_S) -> list[str]:
    """Stop all workers; returns the names of any still alive after ``timeout_s`` overall."""
    for w in workers:
        w.stop()
    deadline = threading.Event()
    timer = threading.Timer(timeout_s, deadline.set)
    timer.start()
    try:
        for w in workers:
            while w.is_alive() and not deadline.is_set():
                w.join(0.05)
    finally:
        timer.cancel()
    return [w.name for w in workers if w.is_alive()]


def run(config: ClientConfig) -> int:
    """Run until a signal arrives or every camera has ended. Returns a process exit code."""
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        log.info("%s received, stopping %d camera(s)", signal.Signals(signum).name, len(config.cameras))
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    workers = start_workers(config)
    heartbeat = start_heartbeat(config, workers)
    log.info("streaming %s to %s over %s", ", ".join(c.camera_id for c in config.cameras),
             " or ".join(config.hub_urls), config.transport)
    try:
        while not stop.wait(0.2):
            if not any(w.is_alive() for w in workers):
                break
    finally:
        heartbeat.stop(timeout=0)  # signal only: the cameras' 2 s stop budget comes first
        stuck = stop_workers(workers)
        heartbeat.join(1.0)
        for s, handler in previous.items():
            signal.signal(s, handler)
    if stuck:
        log.error("threads still running after %.0f s: %s", STOP_TIMEOUT_S, ", ".join(stuck))
    failed = [w.name for w in workers if w.error is not None]
    return 1 if failed or stuck else 0
