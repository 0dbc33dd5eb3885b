"""Refuse oversized HTTP request bodies before anything parses them (an ASGI middleware for the demo's server).

A body is refused with ``413`` when its ``Content-Length`` says it is too large (nothing is read), or, without
one (chunked), as soon as the bytes received pass the limit: the app then sees the client as gone and whatever
it answers is replaced by the refusal. The server reads at most the limit (plus one network chunk), so a huge
payload cannot grow the process (JSON parsing, the queue and the handlers would otherwise each hold copies).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: HTTP request bodies over ``max_bytes`` get ``413 Payload Too Large``."""

    def __init__(self, app: App, max_bytes: int) -> None:
        """Wrap ``app``.

        :raises ValueError: if ``max_bytes`` is not a positive integer.
        """
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise ValueError(f"--max-request-bytes must be a positive integer, got {max_bytes!r}")
        self.app, self.max_bytes = app, max_bytes

    async def refuse(self, send: Send) -> None:
        """Send the 413 answer."""
        detail = (
            f"request body larger than {self.max_bytes:,} bytes; send fewer or shorter texts "
            "(or start the demo with a larger --max-request-bytes)"
        )
        body = json.dumps({"detail": detail, "error": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        """Check the declared length, then count the bytes as the app reads them."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self.refuse(send)  # nothing of the body is read
            return
        seen = {"bytes": 0, "over": False, "started": False}

        async def counted() -> Message:
            if seen["over"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > self.max_bytes:
                    seen["over"] = True
                    return {"type": "http.disconnect"}  # the app stops reading: the client is "gone"
            return message

        async def guarded(message: Message) -> None:
            if seen["over"]:
                return  # the refusal is sent instead
            seen["started"] = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not seen["over"]:
                raise
        if seen["over"] and not seen["started"]:
            await self.refuse(send)
