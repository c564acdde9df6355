"""The rewriter's LLM on an OpenAI-compatible server (``--llm http://host:port/v1``), against a
local server that speaks the chat-completions API."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from chatimg.cli import cli
from chatimg.understand.llm.server import ANSWER_SCHEMA, OpenAIChatGenerator, ServerError
from chatimg.understand.rewriter import load_rewriter
from tests.fake_servers import FakeOpenAI, serve


def watercolour(messages):
    """What a capable model answers: the current prompt, in watercolour."""
    current = messages[-1]["content"].split("Current prompt:")[-1].split("\n")[0].strip()
    return f"{current}, watercolour painting"


def old_map(messages):
    current = messages[-1]["content"].split("Current prompt:")[-1].split("\n")[0].strip()
    return f"{current}, in the style of an old map, sepia ink"


def chats(requests):
    return [body for method, path, body in requests if method == "POST" and path == "/v1/chat/completions"]


def test_the_server_answers_with_the_json_schema_format():
    with serve(FakeOpenAI(watercolour, models=("qwen2.5-7b", "other"))) as (url, requests):
        rewriter = load_rewriter(f"{url}/v1", mode="llm-only")
        edit = rewriter.rewrite("paint it as a watercolour", prompt="a lighthouse on a cliff at dusk", history=[])
    assert edit.prompt == "a lighthouse on a cliff at dusk, watercolour painting"
    assert rewriter.name == f"qwen2.5-7b@{url}/v1"  # the first model the server lists
    [body] = chats(requests)
    assert body["model"] == "qwen2.5-7b" and body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == ANSWER_SCHEMA
    assert body["messages"][0]["role"] == "system" and '{"prompt"' in body["messages"][0]["content"]
    assert "a lighthouse on a cliff at dusk" in body["messages"][-1]["content"]


def test_a_server_without_the_schema_format_is_asked_in_plain_text():
    with serve(FakeOpenAI(watercolour, schema=False)) as (url, requests):
        generate = OpenAIChatGenerator(f"{url}/v1", "tiny-chat")
        messages = [{"role": "system", "content": "rewrite"},
                    {"role": "user", "content": "Current prompt: a red car\nChange: watercolour"}]
        assert generate(messages) == "a red car, watercolour painting"
        assert generate(messages) == "a red car, watercolour painting"
    first, plain, again = chats(requests)
    assert "response_format" in first and "response_format" not in plain and "response_format" not in again


def test_a_wrong_model_name_or_a_closed_port_is_a_clear_error():
    with serve(FakeOpenAI(watercolour)) as (url, _):
        with pytest.raises(ServerError, match="answered 404: .*'nope' not found"):
            OpenAIChatGenerator(f"{url}/v1", "nope")([{"role": "user", "content": "hi"}])
    with pytest.raises(ServerError, match="cannot reach"):
        load_rewriter(f"{url}/v1")


def test_run_with_an_llm_server_and_a_model_name(tmp_path):
    with serve(FakeOpenAI(old_map, models=("a", "b"))) as (url, requests):
        result = CliRunner().invoke(cli, ["run", "--json", "--rewrite-only", "--sessions-dir", str(tmp_path),
                                          "--llm", url, "--llm-model", "b",
                                          "a lighthouse on a cliff", "paint it in the style of an old map"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    # The rules agree with the answer (the style is there, the rest kept), so the server's answer stands.
    assert records[1]["prompt"] == "a lighthouse on a cliff, in the style of an old map, sepia ink"
    assert {body["model"] for body in chats(requests)} == {"b"}
