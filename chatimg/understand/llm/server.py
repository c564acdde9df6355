"""The rewriter's LLM on a server: any OpenAI-compatible chat endpoint (llama.cpp server,
Ollama, vLLM, LM Studio), for machines too small to run a good model themselves.

``OpenAIChatGenerator`` is a generator for ``LLMRewriter`` (``messages -> text``) over plain
HTTP (urllib). It asks for the JSON-schema response format (``{"prompt": "..."}``), which
constrains the server's decoding to the answer's shape; a server that refuses it is asked
again without it, once, and from then on never with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatimg.core.http import ServerError, is_url, request_json

#: The answer's shape: the one thing the rewriter asks a model for.
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"prompt": {"type": "string", "description": "The full new image prompt."}},
    "required": ["prompt"],
    "additionalProperties": False,
}
JSON_HINT = 'Answer with JSON only: {"prompt": "<the full new prompt>"}.'


class OpenAIChatGenerator:
    """``generate(messages) -> text`` on ``{base_url}/chat/completions``, greedy and short."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, max_tokens: int = 160,
                 timeout: float = 120.0, schema: dict | None = ANSWER_SCHEMA) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.schema = schema
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def __call__(self, messages: list[dict]) -> str:
        payload: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": 0,
                                   "max_tokens": self.max_tokens, "stream": False}
        if self.schema is not None:
            try:
                return self._complete({**payload, "messages": _with_hint(messages), "response_format": {
                    "type": "json_schema", "json_schema": {"name": "edit", "strict": True, "schema": self.schema}}})
            except ServerError as exc:
                if exc.status not in (400, 422):  # not a refusal of the format: down, or a wrong model name
                    raise
                self.schema = None  # this server does not take the schema: plain text from now on
        return self._complete(payload)

    def _complete(self, payload: dict) -> str:
        answer = request_json(f"{self.base_url}/chat/completions", payload, timeout=self.timeout,
                              headers=self._headers)
        try:
            return answer["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise ServerError(f"{self.base_url}/chat/completions answered no message") from None


def _with_hint(messages: list[dict]) -> list[dict]:
    """The messages with the JSON answer format said in the system message (models follow
    the schema better when they are also told it)."""
    if messages and messages[0].get("role") == "system":
        return [{**messages[0], "content": f"{messages[0]['content']}\n{JSON_HINT}"}, *messages[1:]]
    return [{"role": "system", "content": JSON_HINT}, *messages]


def server_models(base_url: str, timeout: float = 10.0) -> list[str]:
    """The model names ``{base_url}/models`` lists."""
    answer = request_json(f"{base_url.rstrip('/')}/models", timeout=timeout)
    data = answer.get("data", []) if isinstance(answer, dict) else []
    return [m["id"] for m in data if isinstance(m, dict) and m.get("id")]


def load_server_rewriter(url: str, model: str | None = None, progress: Callable[[str], None] | None = None,
                         *, mode: str | None = None):
    """An ``LLMRewriter`` on the server at ``url`` (the ``/v1`` base); ``model`` defaults to the
    first one the server lists. Raises ``ServerError`` when the server cannot be reached."""
    import os

    from chatimg.understand.llm.rewriter import LLMRewriter, PromptTemplates

    base = url.rstrip("/")
    if not base.endswith("/v1"):
        base += "/v1"
    (progress or (lambda _m: None))(f"asking {base} for its models…")
    try:
        names = server_models(base)
    except ServerError as exc:
        if exc.status is None or model is None:  # unreachable, or no way to find a model to ask
            raise
        names = []  # a server without a model list: ask for the named model anyway
    if model is None:
        if not names:
            raise ServerError(f"{base} lists no models: pass --llm-model NAME")
        model = names[0]
    generator = OpenAIChatGenerator(base, model, api_key=os.environ.get("CHATIMG_LLM_API_KEY"))
    return LLMRewriter(generator, name=f"{model}@{base}", mode=mode or "llm-first", templates=PromptTemplates.load())


__all__ = ["OpenAIChatGenerator", "ServerError", "is_url", "load_server_rewriter", "server_models"]
