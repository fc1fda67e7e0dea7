"""A real local HTTP server that speaks OpenAI's chat-completions API (with SSE streaming) and
Ollama's ``/api/chat`` (NDJSON streaming), run by uvicorn on a loopback port in a thread.

Each request takes the next ``Behaviour`` from the server's script (the last one repeats), so a test
can say "time out twice, then answer". Requests are recorded (path, headers, JSON body) so tests can
check retries, streaming flags and the API key.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tests.support import free_port


@dataclass(frozen=True)
class Behaviour:
    """What the server does with one request.

    pieces: the answer's content pieces, sent one SSE/NDJSON event each;
    delay_s: wait before answering at all (longer than the client's timeout = a timeout);
    status: answer with this HTTP error status and an OpenAI-style error body instead;
    stall_after: send this many pieces, then go silent for ``delay_s`` (a stream that stops).
    """

    pieces: tuple[str, ...] = ("Hello",)
    delay_s: float = 0.0
    status: int | None = None
    stall_after: int | None = None
    piece_gap_s: float = 0.0


def answer(text: str, size: int = 6) -> Behaviour:
    """Stream ``text`` in pieces of ``size`` characters."""
    return Behaviour(pieces=tuple(text[i : i + size] for i in range(0, len(text), size)))


@dataclass
class Recorded:
    path: str
    headers: dict
    body: dict
    at: float


class ChatServer:
    """``with ChatServer([Behaviour(...), ...]) as srv: srv.base_url`` (OpenAI base URL, ends in /v1)."""

    def __init__(self, script: list[Behaviour] | None = None) -> None:
        self.script = list(script or [answer("Hello from the model.")])
        self.requests: list[Recorded] = []
        self.port = free_port()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _next(self) -> Behaviour:
        with self._lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def _build(self) -> FastAPI:
        app = FastAPI()

        async def wait(request: Request, seconds: float) -> None:
            # Like a slow model server: answer late, but stop waiting once the client has gone.
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and not await request.is_disconnected():
                await asyncio.sleep(0.02)

        async def record(request: Request) -> tuple[Behaviour, dict]:
            body = await request.json()
            self.requests.append(Recorded(request.url.path, dict(request.headers), body, time.monotonic()))
            return self._next(), body

        @app.post("/v1/chat/completions")
        async def chat_completions(request: Request):
            b, body = await record(request)
            if b.delay_s and b.stall_after is None:
                await wait(request, b.delay_s)
            if b.status is not None:
                return JSONResponse(
                    {"error": {"message": "scripted failure", "type": "server_error", "code": str(b.status)}},
                    status_code=b.status,
                )
            model = body.get("model", "stub")

            def event(delta: dict, finish: str | None = None) -> str:
                chunk = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                return f"data: {json.dumps(chunk)}\n\n"

            async def stream():
                yield event({"role": "assistant", "content": ""})
                for i, piece in enumerate(b.pieces):
                    if b.stall_after is not None and i == b.stall_after:
                        await asyncio.sleep(b.delay_s)
                        return
                    if b.piece_gap_s:
                        await asyncio.sleep(b.piece_gap_s)
                    yield event({"content": piece})
                yield event({}, "stop")
                yield "data: [DONE]\n\n"

            if not body.get("stream"):
                text = "".join(b.pieces)
                return {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                }
            return StreamingResponse(stream(), media_type="text/event-stream")

        @app.post("/api/chat")
        async def ollama_chat(request: Request):
            b, body = await record(request)
            if b.delay_s:
                await wait(request, b.delay_s)
            if b.status is not None:
                return JSONResponse({"error": "scripted failure"}, status_code=b.status)

            async def stream():
                for piece in b.pieces:
                    yield (
                        json.dumps(
                            {
                                "model": body.get("model"),
                                "created_at": "2026-11-21T03:10:00Z",
                                "message": {"role": "assistant", "content": piece},
                                "done": False,
                            }
                        )
                        + "\n"
                    )
                yield (
                    json.dumps(
                        {
                            "model": body.get("model"),
                            "created_at": "2026-11-21T03:10:00Z",
                            "message": {"role": "assistant", "content": ""},
                            "done": True,
                            "done_reason": "stop",
                        }
                    )
                    + "\n"
                )

            return StreamingResponse(stream(), media_type="application/x-ndjson")

        return app

    def start(self) -> ChatServer:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"chat-stub:{self.port}", daemon=True)
        self._thread.start()
        ready = threading.Event()
        for _ in range(500):
            if self._server.started or not self._thread.is_alive():
                break
            ready.wait(0.02)
        if not self._server.started:
            raise RuntimeError(f"chat stub did not start on port {self.port}")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = None

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
