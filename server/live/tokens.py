"""Display tokens: what a browser shows the hub to open a live socket.

A token is ``base64url(payload) "." base64url(HMAC-SHA256(key, payload))`` with the payload
``{"exp": <ns>, "n": <nonce>}``: the hub checks it without storing anything, and a page's several
sockets (and their reconnections) share one until it expires. The key is the
``display_token_secret`` setting (the same on every hub process that serves one dashboard) or a
random one per process, so a restarted hub refuses the old tokens and the page mints new ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

from server.errors import ApiError


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DisplayTokens:
    """Mints and checks display tokens.

    Args:
        ttl_s: lifetime of a new token, s (> 0).
        key: HMAC key, at least 16 bytes; random when None.
    """

    def __init__(self, ttl_s: float, key: bytes | None = None) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be > 0")
        if key is not None and len(key) < 16:
            raise ValueError("the display token key needs at least 16 bytes")
        self.ttl_s = ttl_s
        self._key = key or secrets.token_bytes(32)

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def mint(self, now_ns: int | None = None) -> tuple[str, int]:
        """A new token and its expiry (hub clock, ns)."""
        now_ns = time.time_ns() if now_ns is None else now_ns
        expires = now_ns + int(self.ttl_s * 1e9)
        payload = json.dumps({"exp": expires, "n": secrets.token_urlsafe(9)}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}", expires

    def check(self, token: str | None, now_ns: int | None = None) -> int:
        """The token's expiry (ns) if it is one of ours and has not expired.

        Raises:
            ApiError: 401 ``missing_display_token`` (none given), ``invalid_display_token``
                (malformed, or signed with another key), ``display_token_expired``.
        """
        if not token:
            raise ApiError(401, "missing_display_token",
                           'the first message must be {"type": "hello", "token": <display token>}')
        try:
            body, _, sig = token.partition(".")
            payload = _unb64(body)
            good = hmac.compare_digest(_unb64(sig), self._sign(payload))
            expires = int(json.loads(payload)["exp"]) if good else None
        except (ValueError, KeyError, TypeError):
            good, expires = False, None
        if not good or expires is None:
            raise ApiError(401, "invalid_display_token",
                           "not a display token of this hub (POST /api/v1/live/tokens mints one)")
        now_ns = time.time_ns() if now_ns is None else now_ns
        if now_ns >= expires:
            raise ApiError(401, "display_token_expired", "the display token has expired; mint a new one",
                           expired_time_ns=expires)
        return expires
