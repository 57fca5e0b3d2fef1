"""LLMClient against a local HTTP server speaking the OpenAI chat-completions API."""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.llm import (
    MAX_RESPONSE_BYTES,
    ChatResult,
    LLMAuthError,
    LLMBadResponseError,
    LLMClient,
    LLMContextLengthError,
    LLMEndpointNotFoundError,
    LLMError,
    LLMModelNotFoundError,
    LLMQuotaError,
    LLMRateLimitError,
    LLMRequestError,
    LLMTimeoutError,
    LLMUnavailableError,
    LLMUnsupportedParameterError,
    Usage,
    from_config,
)

API_KEY = "sk-test-Zq9xW3vT7uS1rP5oN8mL2kJ4"
MODEL = "gpt-test-mini"
MESSAGES = [{"role": "user", "content": "hello"}]


def completion(text: str = "Hi there!", model: str = MODEL) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }


def openai_error(message: str, code: str | None, type_: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


class SleepRecorder:
    """Stands in for time.sleep: records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def client(httpserver: HTTPServer, sleeps: SleepRecorder) -> Iterator[LLMClient]:
    llm = LLMClient(httpserver.url_for("/v1"), API_KEY, MODEL, timeout=5, sleep=sleeps)
    yield llm
    llm.close()


# -- success ---------------------------------------------------------------------------


def test_chat_success_sends_openai_request(client: LLMClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/v1/chat/completions",
        method="POST",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ).respond_with_json(completion("  Thanks for reaching out!  "))

    result = client.chat(MESSAGES, temperature=0.2, max_tokens=50, response_format={"type": "text"})

    assert isinstance(result, ChatResult)
    assert result.text == "Thanks for reaching out!"
    assert result.model == MODEL
    assert result.usage == Usage(12, 3, 15)
    assert result.latency_s >= 0
    request, _ = httpserver.log[0]
    body = json.loads(request.get_data())
    assert body["model"] == MODEL
    assert body["messages"] == MESSAGES
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 50
    assert body["response_format"] == {"type": "text"}
    assert body["stream"] is False


def test_no_authorization_header_without_key(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(completion())
    with LLMClient(httpserver.url_for("/v1/"), None, "llama3.2") as llm:
        assert llm.chat(MESSAGES).text == "Hi there!"
    request, _ = httpserver.log[0]
    assert "Authorization" not in request.headers
    assert request.path == "/v1/chat/completions"


def test_missing_usage_and_model_fall_back(client: LLMClient, httpserver: HTTPServer) -> None:
    body = completion("ok")
    del body["usage"]
    del body["model"]
    httpserver.expect_request("/v1/chat/completions").respond_with_json(body)
    result = client.chat(MESSAGES)
    assert result.usage is None
    assert result.model == MODEL


# -- error bodies ------------------------------------------------------------------------


def test_401_bad_key(client: LLMClient, httpserver: HTTPServer, sleeps: SleepRecorder) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        openai_error(f"Incorrect API key provided: {API_KEY}.", "invalid_api_key"),
        status=401,
    )
    with pytest.raises(LLMAuthError) as info:
        client.chat(MESSAGES)
    assert str(info.value) == "The LLM provider refused the API key (check VIGIE_LLM_API_KEY)"
    assert info.value.status == 401
    assert API_KEY not in (info.value.provider_message or "")
    assert sleeps.calls == []  # never retried
    assert len(httpserver.log) == 1


def test_403_without_key_asks_for_one(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": "forbidden"}, status=403
    )
    with (
        LLMClient(httpserver.url_for("/v1"), "", MODEL) as llm,
        pytest.raises(LLMAuthError) as info,
    ):
        llm.chat(MESSAGES)
    assert "VIGIE_LLM_API_KEY" in str(info.value)


def test_404_model_not_found_names_the_model(
    client: LLMClient, httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        openai_error(
            f"The model `{MODEL}` does not exist or you do not have access to it.",
            "model_not_found",
        ),
        status=404,
    )
    with pytest.raises(LLMModelNotFoundError) as info:
        client.chat(MESSAGES)
    assert MODEL in str(info.value)
    assert sleeps.calls == []


def test_model_not_found_code_on_400(client: LLMClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        openai_error("no such model", "model_not_found"), status=400
    )
    with pytest.raises(LLMModelNotFoundError):
        client.chat(MESSAGES)


def test_ollama_string_error_model_not_found(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": 'model "llama9" not found, try pulling it first'}, status=404
    )
    llm = LLMClient(httpserver.url_for("/v1"), None, "llama9")
    with llm, pytest.raises(LLMModelNotFoundError) as info:
        llm.chat(MESSAGES)
    assert "'llama9'" in str(info.value)
    assert info.value.provider_message == 'model "llama9" not found, try pulling it first'


def test_ollama_string_error_other(client: LLMClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": "invalid message format"}, status=400
    )
    with pytest.raises(LLMRequestError) as info:
        client.chat(MESSAGES)
    assert str(info.value) == "The LLM provider rejected the request (HTTP 400)"
    assert info.value.provider_message == "invalid message format"


def test_404_without_api_body_is_a_wrong_base_url(
    client: LLMClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        "404 page not found", status=404, content_type="text/plain"
    )
    with pytest.raises(LLMEndpointNotFoundError) as info:
        client.chat(MESSAGES)
    assert "VIGIE_LLM_BASE_URL" in str(info.value)


def test_400_context_length_exceeded(client: LLMClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        openai_error(
            "This model's maximum context length is 8192 tokens. However, your messages "
            "resulted in 9000 tokens.",
            "context_length_exceeded",
        ),
        status=400,
    )
    with pytest.raises(LLMContextLengthError) as info:
        client.chat(MESSAGES)
    assert "too long" in str(info.value)
    assert MODEL in str(info.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        # vLLM
        (
            400,
            {
                "object": "error",
                "message": "This model's maximum context length is 4096 tokens.",
                "type": "BadRequestError",
                "code": 400,
            },
        ),
        # llama.cpp server
        (
            400,
            {
                "error": {
                    "code": 400,
                    "message": "the request exceeds the available context size",
                    "type": "exceed_context_size_error",
                }
            },
        ),
        # Ollama-style string
        (500, {"error": "prompt is too long for the context window"}),
    ],
)
def test_context_length_from_other_servers(
    client: LLMClient, httpserver: HTTPServer, status: int, body: dict, sleeps: SleepRecorder
) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(body, status=status)
    with pytest.raises(LLMContextLengthError):
        client.chat(MESSAGES)
    assert sleeps.calls == []


def test_insufficient_quota_is_not_retried(
    client: LLMClient, httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        openai_error("You exceeded your current quota.", "insufficient_quota"), status=429
    )
    with pytest.raises(LLMQuotaError):
        client.chat(MESSAGES)
    assert sleeps.calls == []


def test_error_body_with_200_status(client: LLMClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "upstream failed", "type": "server_error"}}
    )
    with pytest.raises(LLMBadResponseError):
        client.chat(MESSAGES)


# -- retries -----------------------------------------------------------------------------


def test_429_retry_after_seconds_then_success(
    client: LLMClient, httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_json(
        openai_error("Rate limit reached", "rate_limit_exceeded", "requests"),
        status=429,
        headers={"Retry-After": "7"},
    )
    httpserver.expect_request("/v1/chat/completions").respond_with_json(completion("ok"))
    assert client.chat(MESSAGES).text == "ok"
    assert sleeps.calls == [7.0]
    assert len(httpserver.log) == 2


def test_429_retry_after_ms_header(
    client: LLMClient, httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_json(
        openai_error("Rate limit reached", None), status=429, headers={"retry-after-ms": "1500"}
    )
    httpserver.expect_request("/v1/chat/completions").respond_with_json(completion("ok"))
    client.chat(MESSAGES)
    assert sleeps.calls == [1.5]


def test_429_retry_after_http_date_is_capped(
    client: LLMClient, httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    earlier = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_data(
        "slow down", status=429, headers={"Retry-After": later}
    )
    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_data(
        "slow down", status=429, headers={"Retry-After": earlier}
    )
    httpserver.expect_request("/v1/chat/completions").respond_with_json(completion("ok"))
    client.chat(MESSAGES)
    assert sleeps.calls == [LLMClient.RETRY_AFTER_CAP_S, 0.0]


def test_500_then_success_backs_off(
    client: LLMClient, httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_json(
        openai_error("The server had an error", None, "server_error"), status=500
    )
    httpserver.expect_request("/v1/chat/completions").respond_with_json(completion("ok"))
    assert client.chat(MESSAGES).text == "ok"
    assert len(sleeps.calls) == 1
    base = LLMClient.BACKOFF_BASE_S
    assert base <= sleeps.calls[0] <= 2 * base


def test_retries_exhausted_on_503(
    client: LLMClient, httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        "<html>Bad gateway</html>", status=503, content_type="text/html"
    )
    with pytest.raises(LLMUnavailableError) as info:
        client.chat(MESSAGES)
    assert "unavailable" in str(info.value)
    assert info.value.status == 503
    assert len(httpserver.log) == 4  # first try + max_retries
    assert len(sleeps.calls) == 3
    base = LLMClient.BACKOFF_BASE_S
    for attempt, wait in enumerate(sleeps.calls):
        assert base * 2**attempt <= wait <= base * 2**attempt + base


def test_rate_limited_after_retries(httpserver: HTTPServer, sleeps: SleepRecorder) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        openai_error("Rate limit reached", "rate_limit_exceeded"),
        status=429,
        headers={"Retry-After": "2"},
    )
    llm = LLMClient(httpserver.url_for("/v1"), API_KEY, MODEL, max_retries=2, sleep=sleeps)
    with llm, pytest.raises(LLMRateLimitError) as info:
        llm.chat(MESSAGES)
    assert "rate limiting" in str(info.value)
    assert sleeps.calls == [2.0, 2.0]
    assert len(httpserver.log) == 3


def test_connection_refused(sleeps: SleepRecorder) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        LLMClient(
            f"http://127.0.0.1:{port}/v1", API_KEY, MODEL, max_retries=1, sleep=sleeps
        ) as llm,
        pytest.raises(LLMUnavailableError) as info,
    ):
        llm.chat(MESSAGES)
    assert "could not reach" in str(info.value)
    assert f"127.0.0.1:{port}/v1" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert len(sleeps.calls) == 1


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_slow_answer_times_out(threaded_server: HTTPServer, sleeps: SleepRecorder) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response(json.dumps(completion()), content_type="application/json")

    threaded_server.expect_request("/v1/chat/completions").respond_with_handler(slow)
    llm = LLMClient(
        threaded_server.url_for("/v1"), API_KEY, MODEL, timeout=0.2, max_retries=1, sleep=sleeps
    )
    try:
        with pytest.raises(LLMTimeoutError) as info:
            llm.chat(MESSAGES)
    finally:
        release.set()
        llm.close()
    assert "took too long" in str(info.value)
    assert len(sleeps.calls) == 1


# -- malformed answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "respond",
    [
        pytest.param(
            {"response_data": "{not json", "content_type": "application/json"}, id="not-json"
        ),
        pytest.param({"response_json": {"id": "x", "object": "chat.completion"}}, id="no-choices"),
        pytest.param({"response_json": {"choices": []}}, id="empty-choices"),
        pytest.param({"response_json": completion("   ")}, id="empty-content"),
        pytest.param(
            {"response_json": {"choices": [{"message": {"role": "assistant", "content": None}}]}},
            id="null-content",
        ),
        pytest.param({"response_json": {"choices": [{"message": {"content": 42}}]}}, id="number"),
        pytest.param({"response_json": ["not", "an", "object"]}, id="json-list"),
    ],
)
def test_malformed_answers(
    client: LLMClient, httpserver: HTTPServer, respond: dict[str, Any], sleeps: SleepRecorder
) -> None:
    handler = httpserver.expect_request("/v1/chat/completions")
    if "response_json" in respond:
        handler.respond_with_json(respond["response_json"])
    else:
        handler.respond_with_data(respond["response_data"], content_type=respond["content_type"])
    with pytest.raises(LLMBadResponseError) as info:
        client.chat(MESSAGES)
    assert str(info.value).startswith("The LLM returned an answer Vigie could not read")
    assert sleeps.calls == []


def test_content_parts_are_joined(client: LLMClient, httpserver: HTTPServer) -> None:
    body = completion()
    body["choices"][0]["message"]["content"] = [
        {"type": "text", "text": "Hello "},
        {"type": "text", "text": "world"},
    ]
    httpserver.expect_request("/v1/chat/completions").respond_with_json(body)
    assert client.chat(MESSAGES).text == "Hello world"


@pytest.mark.parametrize(("reason", "cut"), [
    ("stop", False), (None, False), ("eos_token", False), ("STOP", False),
    ("length", True), ("content_filter", True), ("tool_calls", True), ("abort", True)])
def test_any_finish_but_a_natural_stop_is_cut_off(reason: str | None, cut: bool) -> None:
    assert ChatResult("Hi", MODEL, None, 0.1, finish_reason=reason).cut_off is cut


# -- reasoning models ------------------------------------------------------------------


def reasoning_model(request: Request) -> Response:
    """api.openai.com for gpt-5.x / o-series: max_tokens and a temperature other than 1
    are refused with a 400 naming the parameter."""
    body = json.loads(request.data)
    if "max_tokens" in body:
        return Response(json.dumps({"error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this "
                       "model. Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error", "param": "max_tokens",
            "code": "unsupported_parameter"}}), status=400, content_type="application/json")
    if body.get("temperature", 1) != 1:
        return Response(json.dumps({"error": {
            "message": f"Unsupported value: 'temperature' does not support "
                       f"{body['temperature']} with this model. Only the default (1) value "
                       f"is supported.", "type": "invalid_request_error",
            "param": "temperature", "code": "unsupported_value"}}), status=400,
            content_type="application/json")
    return Response(json.dumps(completion("Hi Ana, sorry!")), content_type="application/json")


def sent(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(r.get_data()) for r, _ in httpserver.log
            if r.path.endswith("/chat/completions")]


def test_a_model_refusing_max_tokens_is_asked_again_with_max_completion_tokens(
    client: LLMClient, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(reasoning_model)
    with caplog.at_level(logging.INFO, logger="vigie.llm"):
        assert client.chat(MESSAGES).text == "Hi Ana, sorry!"
    first, second = sent(httpserver)
    assert (first["max_tokens"], first["temperature"]) == (2000, 0.4)
    assert second["max_completion_tokens"] == 2000
    assert "max_tokens" not in second and "temperature" not in second
    assert "max_tokens" in caplog.text
    # Remembered: the next request goes the accepted way at once.
    httpserver.clear_log()
    assert client.chat(MESSAGES, max_tokens=300).text == "Hi Ana, sorry!"
    (third,) = sent(httpserver)
    assert third["max_completion_tokens"] == 300 and "temperature" not in third


def test_a_model_refusing_the_temperature_is_asked_again_without(
    httpserver: HTTPServer, sleeps: SleepRecorder
) -> None:
    def temperature_only(request: Request) -> Response:  # takes max_tokens, not 0.4
        body = json.loads(request.data)
        body.pop("max_tokens", None)
        return reasoning_model(Request.from_values(data=json.dumps(body)))

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(temperature_only)
    with LLMClient(httpserver.url_for("/v1"), API_KEY, MODEL, sleep=sleeps,
                   max_tokens=700) as llm:
        assert llm.chat(MESSAGES).text == "Hi Ana, sorry!"
    first, second = sent(httpserver)
    assert first["temperature"] == 0.4
    assert second["max_completion_tokens"] == 700 and "temperature" not in second


def test_a_refused_parameter_is_retried_once_only(
    client: LLMClient, httpserver: HTTPServer
) -> None:
    """A server refusing max_completion_tokens too is not asked a third time."""
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "Unsupported parameter: 'max_tokens'", "param": "max_tokens",
                   "code": "unsupported_parameter", "type": "invalid_request_error"}},
        status=400)
    with pytest.raises(LLMUnsupportedParameterError) as caught:
        client.chat(MESSAGES)
    assert caught.value.param == "max_tokens"
    assert len(sent(httpserver)) == 2


def test_another_400_is_not_retried(client: LLMClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "Invalid type for 'messages[0].content'",
                   "param": "messages[0].content", "code": "invalid_type",
                   "type": "invalid_request_error"}}, status=400)
    with pytest.raises(LLMRequestError) as caught:
        client.chat(MESSAGES)
    assert not isinstance(caught.value, LLMUnsupportedParameterError)
    assert len(sent(httpserver)) == 1


def test_check_passes_on_a_reasoning_model(
    client: LLMClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/models").respond_with_json({"data": [{"id": MODEL}]})
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(reasoning_model)
    assert "max_completion_tokens" in client.check()


# -- check() -----------------------------------------------------------------------------


def test_check_lists_models_and_asks_for_a_completion(
    client: LLMClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/models", method="GET").respond_with_json(
        {"object": "list", "data": [{"id": MODEL, "object": "model"}, {"id": "other"}]}
    )
    httpserver.expect_request("/v1/chat/completions").respond_with_json(completion("OK"))
    summary = client.check()
    assert MODEL in summary
    assert "2 models listed" in summary
    assert "answered a test completion" in summary


def test_check_asks_for_a_completion_without_models_endpoint(
    client: LLMClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/models").respond_with_data("404 page not found", status=404)
    httpserver.expect_request("/v1/chat/completions").respond_with_json(completion("OK"))
    assert "answered a test completion" in client.check()
    request, _ = httpserver.log[-1]
    # The budget drafts get: a thinking model that cannot write within it fails here.
    assert json.loads(request.get_data())["max_tokens"] == client.max_tokens == 2000


def test_check_fails_when_the_model_writes_nothing(
    client: LLMClient, httpserver: HTTPServer
) -> None:
    """A listed model whose completion is empty is not "fine": drafting would fail."""
    httpserver.expect_request("/v1/models").respond_with_json({"data": [{"id": MODEL}]})
    thinking = completion("")
    thinking["choices"][0]["finish_reason"] = "length"
    thinking["choices"][0]["message"]["reasoning"] = "Okay, the user wants OK. " * 100
    httpserver.expect_request("/v1/chat/completions").respond_with_json(thinking)
    with pytest.raises(LLMBadResponseError) as caught:
        client.check()
    assert "VIGIE_LLM_MAX_TOKENS" in str(caught.value)
    assert "2000 tokens" in str(caught.value)
    httpserver.clear_log()
    httpserver.clear_all_handlers()
    httpserver.expect_request("/v1/models").respond_with_json({"data": [{"id": MODEL}]})
    httpserver.expect_request("/v1/chat/completions").respond_with_json(completion(""))
    with pytest.raises(LLMBadResponseError, match="empty answer"):
        client.check()


def test_check_unknown_model(client: LLMClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_json({"data": [{"id": "llama3"}]})
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        openai_error(f"model {MODEL} not found", "model_not_found"), status=404
    )
    with pytest.raises(LLMModelNotFoundError):
        client.check()


def test_check_bad_key(client: LLMClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/models").respond_with_json(
        openai_error("Incorrect API key provided", "invalid_api_key"), status=401
    )
    with pytest.raises(LLMAuthError):
        client.check()


# -- secrets -----------------------------------------------------------------------------


ERROR_SCENARIOS = [
    (401, openai_error(f"Incorrect API key provided: {API_KEY}", "invalid_api_key")),
    (403, {"error": f"key {API_KEY} is not allowed"}),
    (404, openai_error(f"model not found for key {API_KEY}", "model_not_found")),
    (400, openai_error(f"context_length_exceeded for {API_KEY}", "context_length_exceeded")),
    (400, {"error": f"bad request, Authorization: Bearer {API_KEY}"}),
    (429, openai_error(f"Rate limit for {API_KEY[:12]}****", "rate_limit_exceeded")),
    (500, {"error": f"crash dumping headers Bearer {API_KEY}"}),
    (200, {"choices": []}),
]


@pytest.mark.parametrize(("status", "body"), ERROR_SCENARIOS)
def test_api_key_never_leaks(
    httpserver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: dict[str, Any],
) -> None:
    caplog.set_level(logging.DEBUG)
    httpserver.expect_request("/v1/chat/completions").respond_with_json(body, status=status)
    llm = LLMClient(httpserver.url_for("/v1"), API_KEY, MODEL, max_retries=1, sleep=lambda s: None)
    with pytest.raises(LLMError) as info:
        llm.chat(MESSAGES)
    llm.close()
    error = info.value
    texts = [str(error), repr(error), str(error.provider_message), repr(llm)]
    if error.__cause__ is not None:
        texts.append(str(error.__cause__))
    for record in caplog.records:
        texts.append(record.getMessage())
        texts.append(str(record.args))
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
    assert caplog.records, "expected at least the httpx request log"
    for text in texts:
        assert API_KEY not in text
        assert API_KEY[8:] not in text  # no long fragment either


def test_api_key_not_in_timeout_or_connection_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm = LLMClient(
        f"http://127.0.0.1:{port}/v1", API_KEY, MODEL, max_retries=2, sleep=lambda s: None
    )
    with pytest.raises(LLMError) as info:
        llm.chat(MESSAGES)
    assert API_KEY not in str(info.value)
    assert API_KEY not in str(info.value.__cause__)
    assert all(API_KEY not in r.getMessage() for r in caplog.records)
    assert any("retry" in r.getMessage() for r in caplog.records)


def test_repr_hides_key_and_url_credentials() -> None:
    llm = LLMClient("https://user:pw@gateway.example/v1?api-version=1", API_KEY, MODEL)
    assert API_KEY not in repr(llm)
    assert "pw" not in llm.base_url
    assert llm.base_url == "https://gateway.example/v1"
    llm.close()


def test_invalid_key_characters_rejected_without_echo() -> None:
    bad = "sk-secret\nInjected: header"
    with pytest.raises(ValueError) as info:
        LLMClient("http://localhost/v1", bad, MODEL)
    assert "sk-secret" not in str(info.value)


# -- from_config -------------------------------------------------------------------------


def test_from_config_not_configured() -> None:
    assert from_config(None, None, None) is None
    assert from_config("", "key", "gpt-4o-mini") is None
    assert from_config("http://localhost:11434/v1", None, "  ") is None


def test_from_config_builds_client(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/v1/chat/completions", headers={"Authorization": f"Bearer {API_KEY}"}
    ).respond_with_json(completion("ok"))
    llm = from_config(f" {httpserver.url_for('/v1')} ", SecretStr(API_KEY), MODEL, timeout=3)
    assert llm is not None
    assert llm.timeout == 3
    assert llm.chat(MESSAGES).text == "ok"
    llm.close()


def test_mock_transport_is_used() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=completion("via transport"))

    with LLMClient(
        "http://llm.invalid/v1", None, MODEL, transport=httpx.MockTransport(handler)
    ) as llm:
        assert llm.chat(MESSAGES).text == "via transport"
    assert str(seen[0].url) == "http://llm.invalid/v1/chat/completions"


@pytest.mark.parametrize("url", ["localhost:11434/v1", "ftp://host/v1", "http://", "not a url"])
def test_invalid_base_url_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="VIGIE_LLM_BASE_URL"):
        LLMClient(url, None, MODEL)


def test_redirect_is_explained_not_followed(client: LLMClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        "", status=301, headers={"Location": "https://elsewhere.example/v1/chat/completions"}
    )
    with pytest.raises(LLMRequestError) as info:
        client.chat(MESSAGES)
    assert "VIGIE_LLM_BASE_URL" in str(info.value)
    assert len(httpserver.log) == 1


class _Provider(ThreadingHTTPServer):
    """A provider that answers every POST with ``body`` in chunks, waiting ``pause``
    seconds before each (until told to stop)."""

    daemon_threads = True

    def __init__(self, body: bytes, *, chunk: int, pause: float,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _ProviderHandler)
        self.body, self.chunk, self.pause = body, chunk, pause
        self.extra_headers = headers or {}
        self.stop = threading.Event()
        self.sent = 0

    def base_url(self) -> str:
        """The API root to give the client."""
        return f"http://127.0.0.1:{self.server_port}/v1"


class _ProviderHandler(BaseHTTPRequestHandler):
    server: _Provider

    def do_POST(self) -> None:
        """Answer with the server's body, chunk by chunk."""
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.server.body)))
        for name, value in self.server.extra_headers.items():
            self.send_header(name, value)
        self.end_headers()
        body, step = self.server.body, self.server.chunk
        for start in range(0, len(body), step):
            if self.server.stop.wait(self.server.pause):
                return
            try:
                self.wfile.write(body[start:start + step])
                self.wfile.flush()
            except OSError:
                return
            self.server.sent += len(body[start:start + step])

    def log_message(self, *args: object) -> None:
        """Quiet."""


@contextlib.contextmanager
def _provider(body: bytes, *, chunk: int, pause: float = 0.0,
              headers: dict[str, str] | None = None) -> Iterator[_Provider]:
    server = _Provider(body, chunk=chunk, pause=pause, headers=headers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()


def test_an_answer_trickled_past_the_timeout_is_a_timeout() -> None:
    """httpx's timeouts are per read: an answer sent a few bytes every 0.2 s never tripped
    a 1 s timeout and held the worker for as long as it lasted (here 40 s)."""
    body = b" " * 200 + json.dumps(completion()).encode()
    with _provider(body, chunk=1, pause=0.2) as server, LLMClient(
        server.base_url(), API_KEY, MODEL, timeout=1, max_retries=0
    ) as llm:
        with pytest.raises(LLMTimeoutError):
            llm.chat(MESSAGES)
        assert server.sent < len(body)


def test_an_answer_over_the_size_cap_is_refused() -> None:
    """The whole answer was read into memory, whatever its size."""
    padding = "x" * (MAX_RESPONSE_BYTES + 1024)
    body = json.dumps({**completion(), "padding": padding}).encode()
    with _provider(body, chunk=64 * 1024) as server, LLMClient(
        server.base_url(), API_KEY, MODEL, timeout=30, max_retries=0
    ) as llm, pytest.raises(LLMBadResponseError, match="too large"):
        llm.chat(MESSAGES)


def test_a_compressed_answer_is_read() -> None:
    """The body is decoded while read, and the copy returned is not decoded twice."""
    body = gzip.compress(json.dumps(completion("Compressed hello")).encode())
    with _provider(body, chunk=7, headers={"Content-Encoding": "gzip"}) as server, LLMClient(
        server.base_url(), API_KEY, MODEL, timeout=30, max_retries=0
    ) as llm:
        assert llm.chat(MESSAGES).text == "Compressed hello"
