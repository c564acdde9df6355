"""Plain JSON over HTTP (the standard library's urllib), for the servers chatimg talks to: an
image-generation server that paints, an OpenAI-compatible one that rewrites."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class ServerError(Exception):
    """The server could not be reached or answered something unusable; the message is for the user."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status of a refusal; None when there was no answer


def is_url(spec: str | None) -> bool:
    return bool(spec) and spec.lower().startswith(("http://", "https://"))


def request_json(url: str, payload: dict | None = None, *, timeout: float = 120.0,
                 headers: dict[str, str] | None = None) -> Any:
    """GET (``payload`` None) or POST JSON to ``url`` and return the decoded answer; a
    ``ServerError`` with the server's own message on any failure."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace").strip().splitlines()
        raise ServerError(f"{url} answered {exc.code}: {(detail[0] if detail else exc.reason)[:200]}",
                          exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServerError(f"cannot reach {url}: {reason}") from None
    try:
        return json.loads(body)
    except ValueError:
        raise ServerError(f"{url} did not answer JSON") from None
