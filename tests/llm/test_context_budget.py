"""A small-context server (vLLM with --max-model-len 2048, llama.cpp with a small -c)
refuses a completion whose prompt and token budget together exceed the context, with a 400
that says so. The client asks again once with a budget that fits that prompt (not
remembered: a shorter prompt later has room for the whole budget), and when
nothing fits says VIGIE_LLM_MAX_TOKENS is to blame, not the mention. Each server is a local
HTTP server answering with the provider's own wording."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.llm import LLMBadResponseError, LLMClient, LLMContextLengthError
from bot.slack.phrases import render_phrase

MODEL = "Qwen/Qwen2.5-7B-Instruct"
CONTEXT = 2048
# About 700 tokens at 4 characters a token: the system prompt, the mention, its context.
MESSAGES = [{"role": "system", "content": "You write short replies for a brand. " * 40},
            {"role": "user", "content": "@acme my order 12345 never arrived, three weeks. " * 30}]
PROMPT = sum(len(m["content"]) for m in MESSAGES) // 4


def _classic(context: int, prompt: int, want: int) -> str:
    """vLLM up to 0.9 and OpenAI."""
    return (f"This model's maximum context length is {context} tokens. However, you requested "
            f"{prompt + want} tokens ({prompt} in the messages, {want} in the completion). "
            "Please reduce the length of the messages or completion.")


def _too_large(context: int, prompt: int, want: int) -> str:
    """vLLM 0.10 and later."""
    return (f"'max_tokens' or 'max_completion_tokens' is too large: {want}. This model's "
            f"maximum context length is {context} tokens and your request has {prompt} input "
            f"tokens ({want} > {context} - {prompt}). None")


def _no_numbers(context: int, prompt: int, want: int) -> str:
    """A gateway passing on a shortened message."""
    return "Context length exceeded: reduce the prompt or max_tokens."


def small_context(wording: Callable[[int, int, int], str], context: int = CONTEXT
                  ) -> Callable[[Request], Response]:
    """A vLLM server started with --max-model-len ``context``."""
    def answer(request: Request) -> Response:
        body = json.loads(request.data)
        prompt = sum(len(m["content"]) for m in body["messages"]) // 4
        want = body.get("max_tokens") or body.get("max_completion_tokens") or 16
        fits = (prompt + want <= context if wording is not _no_numbers
                else want <= 400)
        if not fits:
            refusal = wording(context, prompt, want)
            return Response(json.dumps({"object": "error", "message": refusal,
                                        "type": "BadRequestError", "param": None,
                                        "code": 400}),
                            status=400, content_type="application/json")
        return Response(json.dumps({"model": MODEL, "choices": [{
            "index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Sorry, we are on it."}}]}),
            content_type="application/json")
    return answer


def budgets(httpserver: HTTPServer) -> list[int]:
    return [json.loads(r.get_data())["max_tokens"] for r, _ in httpserver.log]


def client(httpserver: HTTPServer) -> LLMClient:
    return LLMClient(httpserver.url_for("/v1"), None, MODEL, max_retries=0,
                     sleep=lambda _s: None)


@pytest.mark.parametrize(("wording", "fitted"), [
    (_classic, CONTEXT - PROMPT), (_too_large, CONTEXT - PROMPT), (_no_numbers, 400)],
    ids=["vllm-classic", "vllm-too-large", "no-numbers"])
def test_a_budget_the_context_cannot_hold_is_fitted_for_that_prompt(
        httpserver: HTTPServer, caplog: pytest.LogCaptureFixture,
        wording: Callable[[int, int, int], str], fitted: int) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(
        small_context(wording))
    with client(httpserver) as llm, caplog.at_level(logging.INFO, logger="vigie.llm"):
        assert llm.chat(MESSAGES).text == "Sorry, we are on it."
        assert budgets(httpserver) == [2000, fitted]
        assert f"asking it with {fitted}" in caplog.text


def test_a_short_prompt_after_a_long_one_is_asked_with_the_whole_budget(
        httpserver: HTTPServer) -> None:
    """The budget fitted to one long mention is not kept: the next, short mention has
    room for VIGIE_LLM_MAX_TOKENS and is asked with it (a reply cut at the long mention's
    leftover otherwise)."""
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(
        small_context(_classic, context=4096))
    long = [{"role": "user", "content": "x" * 4 * 3900}]
    short = [{"role": "user", "content": "@acme where is my order?"}]
    with client(httpserver) as llm:
        llm.chat(long)
        assert budgets(httpserver) == [2000, 4096 - 3900]
        httpserver.clear_log()
        llm.chat(short)
        llm.chat(short)
    assert budgets(httpserver) == [2000, 2000]


def test_a_thinking_model_out_of_a_fitted_budget_is_not_told_to_raise_the_setting(
        httpserver: HTTPServer) -> None:
    """Empty at the budget the context left a long mention, raising VIGIE_LLM_MAX_TOKENS
    would not help: the message says the mention left too little room (en, fr); a short
    mention empty at the whole budget is still told to raise it."""
    context = 4096

    def thinking(request: Request) -> Response:
        body = json.loads(request.data)
        prompt = sum(len(m["content"]) for m in body["messages"]) // 4
        want = body["max_tokens"]
        if prompt + want > context:
            return Response(json.dumps({"object": "error", "code": 400, "type":
                                        "BadRequestError", "message": _classic(
                                            context, prompt, want)}),
                            status=400, content_type="application/json")
        return Response(json.dumps({"model": MODEL, "choices": [{
            "index": 0, "finish_reason": "length",
            "message": {"role": "assistant", "content": ""}}]}),
            content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(thinking)
    long = [{"role": "user", "content": "x" * 4 * 3900}]
    with client(httpserver) as llm:
        with pytest.raises(LLMBadResponseError) as info:
            llm.chat(long)
        assert info.value.phrase.key == "llm_error.budget_spent_fitted"
        assert "196 tokens" in str(info.value)
        assert "VIGIE_LLM_MAX_TOKENS" not in str(info.value)
        french = render_phrase(info.value.phrase, "fr")
        assert "196 tokens" in french and "VIGIE_LLM_MAX_TOKENS" not in french
        with pytest.raises(LLMBadResponseError) as short:
            llm.chat([{"role": "user", "content": "@acme where is my order?"}])
        assert short.value.phrase.key == "llm_error.budget_spent"
        assert "2000 tokens" in str(short.value) and "VIGIE_LLM_MAX_TOKENS" in str(short.value)


def test_a_longer_prompt_later_is_fitted_again(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(
        small_context(_classic))
    longer = [*MESSAGES, {"role": "user", "content": "And another thing. " * 40}]
    longer_prompt = sum(len(m["content"]) for m in longer) // 4
    with client(httpserver) as llm:
        llm.chat(MESSAGES)
        httpserver.clear_log()
        assert llm.chat(longer).text == "Sorry, we are on it."
    assert budgets(httpserver) == [2000, CONTEXT - longer_prompt]


def test_when_no_budget_fits_the_error_names_the_setting_and_the_context(
        httpserver: HTTPServer) -> None:
    """A context 30 tokens larger than the prompt leaves no room for a reply: asking again
    cannot help, and the user is told the budget and the context, in English and French."""
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(
        small_context(_classic, context=PROMPT + 30))
    with client(httpserver) as llm, pytest.raises(LLMContextLengthError) as info:
        llm.chat(MESSAGES)
    assert str(info.value) == (
        f"The LLM model '{MODEL}' cannot fit the mention and a completion budget of 2000 "
        f"tokens (VIGIE_LLM_MAX_TOKENS) in its context ({PROMPT + 30} tokens), even with a "
        "smaller budget; lower VIGIE_LLM_MAX_TOKENS or give the model a larger context, or "
        "write the reply by hand")
    assert render_phrase(info.value.phrase, "fr").startswith(
        f"le modèle « {MODEL} » du LLM ne peut pas faire tenir la mention et un budget de "
        f"réponse de 2000 tokens (VIGIE_LLM_MAX_TOKENS) dans son contexte ({PROMPT + 30} "
        "tokens)")
    assert budgets(httpserver) == [2000]


def test_a_fitted_budget_refused_again_is_not_asked_a_third_time(
        httpserver: HTTPServer) -> None:
    """vLLM counts "at least" the prompt's tokens: the budget fitted to that still fails."""
    def refuses(_request: Request) -> Response:
        return Response(json.dumps({"object": "error", "code": 400, "message": (
            f"This model's maximum context length is {CONTEXT} tokens. However, you requested "
            f"2000 output tokens and your prompt contains at least {PROMPT} input tokens, for a "
            f"total of at least {PROMPT + 2000} tokens.")}), status=400,
            content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(refuses)
    with client(httpserver) as llm, pytest.raises(LLMContextLengthError) as info:
        llm.chat(MESSAGES)
    assert info.value.phrase.key == "llm_error.context_budget"
    assert "VIGIE_LLM_MAX_TOKENS" in str(info.value) and f"({CONTEXT} tokens)" in str(info.value)
    assert budgets(httpserver) == [2000, CONTEXT - PROMPT]


@pytest.mark.parametrize("body", [
    # OpenAI: the messages alone are too long.
    {"error": {"message": "This model's maximum context length is 8192 tokens. However, "
                          "your messages resulted in 9000 tokens. Please reduce the length "
                          "of the messages.", "type": "invalid_request_error",
               "param": "messages", "code": "context_length_exceeded"}},
    # llama.cpp server: the prompt fills the context (-c 512).
    {"error": {"code": 400, "message": "the request exceeds the available context size, "
                                       "try increasing it",
               "type": "exceed_context_size_error", "n_prompt_tokens": PROMPT, "n_ctx": 512}},
], ids=["openai-messages", "llamacpp"])
def test_a_prompt_too_long_by_itself_is_not_asked_again(
        httpserver: HTTPServer, body: dict[str, Any]) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(body, status=400)
    with client(httpserver) as llm, pytest.raises(LLMContextLengthError) as info:
        llm.chat(MESSAGES)
    assert info.value.phrase.key == "llm_error.context_length"
    assert str(info.value).startswith("This mention is too long")
    assert budgets(httpserver) == [2000]
