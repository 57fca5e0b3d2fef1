"""A malformed LLM setting stops `vigie run` with one line naming the variable, and
`vigie doctor` says what to fix, as the README promises, instead of a traceback: a base URL
without its scheme (``localhost:11434/v1``) and an API key with a character no HTTP header
carries."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.config import Settings
from bot.doctor import FAIL, WARN, _llm_check
from tests.bot.test_cli import vigie

URL_LINE = ("VIGIE_LLM_BASE_URL: The LLM base URL must look like https://host/v1 or "
            "http://localhost:11434/v1 (check VIGIE_LLM_BASE_URL)")
KEY_LINE = ("VIGIE_LLM_API_KEY: The LLM API key contains invalid characters "
            "(check VIGIE_LLM_API_KEY)")
CASES = [({"VIGIE_LLM_BASE_URL": "localhost:11434/v1", "VIGIE_LLM_MODEL": "llama3"}, URL_LINE),
         ({"VIGIE_LLM_BASE_URL": "http://127.0.0.1:9/v1", "VIGIE_LLM_MODEL": "m",
           "VIGIE_LLM_API_KEY": "sk-clé"}, KEY_LINE)]


@pytest.mark.parametrize(("env", "line"), CASES)
def test_run_stops_with_one_line_naming_the_setting(
        tmp_path: Path, env: dict[str, str], line: str) -> None:
    # A port nothing else listens on, should `run` get as far as listening.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = vigie(tmp_path, "run", PORT=str(port), **env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"Configuration error: {line}"]
    assert result.stdout == ""


@pytest.mark.parametrize(("env", "line"), CASES)
def test_doctor_says_which_setting_to_fix(
        tmp_path: Path, env: dict[str, str], line: str) -> None:
    result = vigie(tmp_path, "doctor", **env)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1].split(None, 2) == ["configuration", "FAIL", line]
    assert "Traceback" not in result.stdout + result.stderr


def test_the_llm_check_fails_on_settings_built_without_validation() -> None:
    settings = Settings.model_construct(llm_base_url="localhost:11434/v1", llm_model="m",
                                        llm_api_key=None)
    check = _llm_check(settings)
    assert (check.status, check.detail) == (FAIL, URL_LINE.split(": ", 1)[1])


def test_doctor_asks_for_text_within_the_configured_budget(httpserver: HTTPServer) -> None:
    """`vigie doctor` runs a real completion with VIGIE_LLM_MAX_TOKENS: a thinking model
    that spends it all before writing fails with the line that says what to raise."""
    from bot.config import load_settings
    from bot.doctor import OK

    def thinking_model(request: Request) -> Response:  # Ollama's /v1, a qwen3-like model
        budget = json.loads(request.data)["max_tokens"]
        choice = ({"finish_reason": "stop", "message": {"role": "assistant", "content": "OK"}}
                  if budget >= 1500 else
                  {"finish_reason": "length",
                   "message": {"role": "assistant", "content": "", "reasoning": "Hmm. " * 300}})
        return Response(json.dumps({"choices": [{"index": 0, **choice}]}),
                        content_type="application/json")

    httpserver.expect_request("/v1/models").respond_with_json({"object": "list", "data": []})
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(thinking_model)

    def check(**env: Any) -> Any:
        return _llm_check(load_settings(
            slack_bot_token="xoxb-1", slack_signing_secret="s" * 32,
            llm_base_url=httpserver.url_for("/v1"), llm_model="qwen3:8b", **env))

    low = check(llm_max_tokens=400)
    assert low.status == FAIL
    assert low.detail == ("The LLM model 'qwen3:8b' spent its whole budget of 400 tokens "
                          "before writing any answer (a thinking model reasons first); raise "
                          "VIGIE_LLM_MAX_TOKENS")
    assert check().status == OK  # the default budget leaves room to think


def ok_completion(_request: Request) -> Response:
    return Response(json.dumps({"model": "qwen3:8b", "choices": [{
        "index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "OK"}}]}),
        content_type="application/json")


def test_doctor_waits_for_the_model_as_long_as_drafts_do(httpserver: HTTPServer) -> None:
    """A thinking model (or a cold load) answering in 11 s writes drafts within the runtime's
    30 s: the doctor, which gave up at 10 s, must not fail it."""
    from bot.config import load_settings
    from bot.doctor import OK

    def thinks(request: Request) -> Response:
        time.sleep(11)
        return ok_completion(request)

    httpserver.expect_request("/v1/models").respond_with_json(
        {"object": "list", "data": [{"id": "qwen3:8b", "object": "model"}]})
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(thinks)
    check = _llm_check(load_settings(
        slack_bot_token="xoxb-1", slack_signing_secret="s" * 32,
        llm_base_url=httpserver.url_for("/v1"), llm_model="qwen3:8b"))
    assert check.status == OK, check.detail


@pytest.mark.parametrize(("models", "status", "detail"), [
    ({"object": "list", "data": [{"id": "qwen3:8b"}]}, WARN,
     "{url}: model 'qwen3:8b' is listed, but it did not answer a test "
     "completion within 1 s (a thinking model or a cold load?); drafts wait as long, so "
     "suggestions may time out"),
    (None, FAIL, "The LLM provider took too long to answer (more than 1 s); try again later"),
], ids=["listed", "no-models-endpoint"])
def test_a_model_slower_than_the_timeout_warns_once_it_is_listed(
        httpserver: HTTPServer, models: dict[str, Any] | None, status: str,
        detail: str) -> None:
    """After GET /models answered, a completion past the timeout is a WARNING (the provider
    and the model are there, the answer is slow); without a listing it stays a FAIL."""
    from bot.doctor import llm_client_check
    from bot.llm import LLMClient

    answered = threading.Event()

    def never_in_time(request: Request) -> Response:
        answered.wait(10)
        return ok_completion(request)

    if models is not None:
        httpserver.expect_request("/v1/models").respond_with_json(models)
    else:  # llama.cpp builds and proxies without the endpoint
        httpserver.expect_request("/v1/models").respond_with_data("Not Found", status=404)
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(never_in_time)
    try:
        with LLMClient(httpserver.url_for("/v1"), None, "qwen3:8b", timeout=1,
                       max_retries=0) as client:
            check = llm_client_check(client)
    finally:
        answered.set()
    assert (check.status, check.detail) == (
        status, detail.format(url=httpserver.url_for("/v1").rstrip("/")))
