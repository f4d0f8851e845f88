"""POST one JSON payload to the webhook, with retries and backoff.

Errors are reduced to a kind ("HTTP 503", "connection refused", "timeout"): an exception's text
may quote the URL, which is a secret, so none is ever kept, logged or raised.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from azlogs_pipeline.config import Secret

USER_AGENT = "azlogs-alerts/1"


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per post and the waits between them (seconds); a 429's Retry-After is honoured up
    to `max_wait`."""

    attempts: int = 3
    backoff: tuple[float, ...] = (0.5, 2.0)
    timeout: float = 5.0
    max_wait: float = 10.0


DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class PostOutcome:
    ok: bool
    attempts: int
    error: str | None = None
    """The last failure's kind, when not ok."""
    unreachable: bool = False
    """The endpoint could not be reached at all (no HTTP answer): later posts would fail too."""


class _Failure(Exception):
    def __init__(self, kind: str, *, retry: bool, unreachable: bool = False, wait: float = 0):
        super().__init__(kind)
        self.kind, self.retry, self.unreachable, self.wait = kind, retry, unreachable, wait


def post_json(
    url: Secret,
    payload: dict[str, Any],
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> PostOutcome:
    """POST `payload` to `url` until a 2xx answer or `policy.attempts` tries."""
    body = orjson.dumps(payload, default=str)
    failure = _Failure("not attempted", retry=False)
    for attempt in range(1, policy.attempts + 1):
        try:
            _post_once(url, body, policy.timeout)
            return PostOutcome(True, attempt)
        except _Failure as error:
            failure = error
        if not failure.retry or attempt == policy.attempts:
            return PostOutcome(False, attempt, failure.kind, failure.unreachable)
        wait = policy.backoff[min(attempt - 1, len(policy.backoff) - 1)] if policy.backoff else 0
        sleep(min(max(wait, failure.wait), policy.max_wait))
    return PostOutcome(False, policy.attempts, failure.kind, failure.unreachable)


def _post_once(url: Secret, body: bytes, timeout: float) -> None:
    try:
        request = urllib.request.Request(
            url.get(),
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as error:
        code = error.code
        error.close()
        retry_after = error.headers.get("Retry-After", "") if error.headers else ""
        raise _Failure(
            f"HTTP {code}",
            retry=code == 429 or code >= 500,
            wait=float(retry_after) if retry_after.isdigit() else 0,
        ) from None
    except TimeoutError:
        raise _Failure("timeout", retry=True, unreachable=True) from None
    except urllib.error.URLError as error:
        raise _Failure(_reason(error.reason), retry=True, unreachable=True) from None
    except (OSError, ValueError) as error:
        raise _Failure(type(error).__name__, retry=True, unreachable=True) from None


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(reason, socket.gaierror):
        return "host not found"
    if isinstance(reason, OSError):
        return type(reason).__name__
    return "unreachable"
