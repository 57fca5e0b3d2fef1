"""Client for any OpenAI-compatible chat-completions API, over synchronous httpx.

Works with OpenAI, OpenAI-compatible gateways, Ollama, vLLM, llama.cpp server and
LM Studio: everything that serves ``POST {base_url}/chat/completions`` and, usually,
``GET {base_url}/models``.

Failures are raised as an ``LLMError`` hierarchy whose ``phrase`` says why in plain words,
shown to a Slack user in their language; ``str()`` is it in English, for logs. The API key
never appears in those messages, in the ``provider_message`` kept for logs, in ``repr()``
or in log records.

Requests carry ``max_tokens`` and ``temperature``, which most servers take. OpenAI's
reasoning models (gpt-5, o-series) refuse both with a 400 whose ``error.code`` is
``unsupported_parameter`` (or ``unsupported_value`` for a temperature other than 1) and
whose ``error.param`` names it; the client then asks again once with
``max_completion_tokens`` and the model's own temperature, and keeps asking that way.
The token budget covers a thinking model's reasoning too (OpenAI's reasoning tokens,
Ollama's thinking): it is configurable, and an answer that spent all of it before any
text says so. The prompt and the budget share the model's context: a small-context server
(vLLM's --max-model-len, llama.cpp's -c) refuses a budget it has no room for with a 400, and
the client then asks again once with the room the prompt leaves and keeps to it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from bot.messages.notes import Arg, Phrase, Text, plain_text
from bot.net.retry import (
    added_jitter,
    call_with_retries,
    exponential,
    parse_retry_after,
    retry_delay,
)

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "MAX_RESPONSE_BYTES",
    "ChatResult",
    "LLMAuthError",
    "LLMBadResponseError",
    "LLMClient",
    "LLMContextLengthError",
    "LLMEndpointNotFoundError",
    "LLMError",
    "LLMModelNotFoundError",
    "LLMQuotaError",
    "LLMRateLimitError",
    "LLMRequestError",
    "LLMTimeoutError",
    "LLMUnavailableError",
    "LLMUnsupportedParameterError",
    "Usage",
    "from_config",
]

logger = logging.getLogger("vigie.llm")

_MAX_PROVIDER_MESSAGE = 500
_MAX_URL = 200
"""Characters of the base URL or model name quoted in an error shown to users."""
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
"""Largest answer read from the provider: a completion is a few KB, a list of hundreds of
models about 1 MB. A larger one is refused rather than held whole in memory."""
# Shapes of secrets providers like to echo back ("Incorrect API key provided: sk-abc***xyz").
_SECRET_LIKE = re.compile(
    r"(?i)\b(?:sk|pk|rk|gsk|xai|key|api[-_]?key)[-_][A-Za-z0-9_\-*.]{6,}|\bBearer\s+\S+"
)
_CONTEXT_CODES = frozenset(
    {"context_length_exceeded", "exceed_context_size_error", "context_window_exceeded"}
)
_CONTEXT_WORDS = re.compile(
    r"(?i)context[ _-]?(?:length|size|window)|maximum context|prompt is too long"
    r"|too many (?:input )?tokens|exceeds? (?:the )?(?:available |maximum )?context"
)
_MODEL_NOT_FOUND_CODES = frozenset({"model_not_found", "modelnotfound"})
_MODEL_MISSING = re.compile(
    r"(?i)\bmodel\b.{0,120}?\b(?:not found|does not exist|doesn't exist|not available|unknown)"
    r"|\b(?:unknown|invalid) model\b"
)
_QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached", "quota_exceeded"})
_UNSUPPORTED_CODES = frozenset({"unsupported_parameter", "unsupported_value"})
_LEGACY_PARAMS = ("max_tokens", "temperature")
"""What reasoning models refuse and the client can do without (or say otherwise)."""
_LEGACY_PARAM_REFUSED = re.compile(
    r"(?i)unsupported (?:parameter|value)\W+'?(max_tokens|temperature)\b"
    r"|'(max_tokens|temperature)' (?:is not supported|does not support)"
)
_NATURAL_STOPS = frozenset({"stop", "eos", "eos_token", "stop_sequence", "end_turn"})
"""finish_reason words for a text the model ended itself: OpenAI's "stop", and what some
OpenAI-compatible servers say instead (Hugging Face TGI, Anthropic-style gateways)."""
_CONTEXT_SIZE = re.compile(r"(?i)maximum context length is (\d+)|context (?:length|size|window) "
                           r"(?:is |of )?(\d+)")
_PROMPT_SIZE = re.compile(r"(?i)\((\d+) in the messages|(\d+) input tokens|(\d+) in the prompt")
_BUDGET_NAMED = re.compile(
    r"(?i)in the completion|output tokens|completion tokens|max_(?:completion_|new_)?tokens")
"""How servers say the requested completion counts against the context: vLLM's "(700 in the
messages, 2000 in the completion)" and "'max_tokens' or 'max_completion_tokens' is too
large: 2000. ... your request has 700 input tokens", OpenAI's same first form."""
FALLBACK_FITTED_BUDGET = 400
"""Budget asked again with when a context refusal blames the budget without numbers (the
budget Vigie always used before it was configurable)."""
MIN_FITTED_BUDGET = 64
"""Smallest budget worth asking again with: below it, no reply fits after the prompt."""
DEFAULT_MAX_TOKENS = 2000
"""Default token budget of a completion (VIGIE_LLM_MAX_TOKENS). A reply needs a few hundred;
the rest is room for a thinking model's reasoning, which counts against it."""


class LLMError(Exception):
    """Base of every LLM failure: ``phrase`` says why in plain words (an ``llm_error.*``
    catalogue key and its arguments, shown in each reader's language); ``str()`` is it in
    English, for logs and the CLI.

    ``status`` is the HTTP status when there was one; ``provider_message`` is the
    provider's own explanation (secrets removed), meant for logs, not for users.
    """

    retryable = False

    def __init__(
        self,
        key: str,
        *,
        status: int | None = None,
        provider_message: str | None = None,
        **args: Arg,
    ) -> None:
        """Keep the phrase ``llm_error.<key>`` with ``args``, the status and the provider's
        words."""
        self.phrase = Phrase.of(f"llm_error.{key}", **args)
        super().__init__(plain_text(self.phrase, "en"))
        self.status = status
        self.provider_message = provider_message


class LLMAuthError(LLMError):
    """The provider refused the API key (401/403) or needs one."""


class LLMModelNotFoundError(LLMError):
    """The provider does not know the configured model."""


class LLMEndpointNotFoundError(LLMError):
    """Nothing answers chat completions at the base URL (a 404 without an API error body)."""


class LLMContextLengthError(LLMError):
    """The prompt, or the prompt with the completion budget, does not fit the model's
    context window. ``context_tokens`` and ``prompt_tokens`` are the numbers the provider
    gave (None when it gave none); ``budget_named`` says its message blames the requested
    completion tokens too."""

    context_tokens: int | None = None
    prompt_tokens: int | None = None
    budget_named: bool = False


class LLMRateLimitError(LLMError):
    """Still rate limited (429) after every retry."""


class LLMQuotaError(LLMError):
    """The provider's account has no quota or credit left; retrying will not help."""


class LLMTimeoutError(LLMError):
    """The provider did not answer within the timeout, retries included.

    ``listed_models`` is set by ``LLMClient.check`` when ``GET /models`` answered before
    the test completion timed out: the provider is there, the model is slow."""

    listed_models: list[str] | None = None


class LLMUnavailableError(LLMError):
    """The provider is down (5xx) or unreachable, retries included."""


class LLMBadResponseError(LLMError):
    """The answer was not a readable chat completion (not JSON, no choices, empty text)."""


class LLMRequestError(LLMError):
    """The provider rejected the request for another reason (a 4xx not covered above)."""


class LLMUnsupportedParameterError(LLMRequestError):
    """The model refuses ``max_tokens`` or ``temperature`` (OpenAI's reasoning models):
    ``param`` is the one it named."""

    param: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts reported by the provider (0 when it did not say)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ChatResult:
    """One completion: the text, the model that answered, token usage and latency.

    ``latency_s`` is the wall-clock time of the whole ``chat()`` call, retries included.
    ``finish_reason`` is the provider's word on why the text ends (``"stop"``; ``"length"``
    when it was cut at the token limit, mid-sentence), None when it gave none.
    """

    text: str
    model: str
    usage: Usage | None
    latency_s: float
    finish_reason: str | None = None

    @property
    def cut_off(self) -> bool:
        """Whether the provider stopped the text before its end: at the token limit
        ("length"), by its content filter ("content_filter": "content was omitted"), or for
        any other reason than a natural stop. No reason given counts as a natural stop."""
        if self.finish_reason is None:
            return False
        return self.finish_reason.strip().lower() not in _NATURAL_STOPS


class _SecretLike(Protocol):
    def get_secret_value(self) -> str: ...


def checked_api_key(api_key: str | None) -> str:
    """``api_key`` stripped ("" for none); ValueError naming VIGIE_LLM_API_KEY when it holds
    a character an HTTP header cannot carry. The settings check it with this too."""
    key = (api_key or "").strip()
    # Checked here so httpx never builds an error message that quotes the header value.
    if key and not all(33 <= ord(ch) < 127 for ch in key):
        raise ValueError("The LLM API key contains invalid characters (check VIGIE_LLM_API_KEY)")
    return key


def checked_base_url(base_url: str) -> httpx.URL:
    """``base_url`` as an http(s) URL with a host; ValueError naming VIGIE_LLM_BASE_URL
    otherwise (``localhost:11434/v1`` reads as the scheme ``localhost``). The settings check
    it with this too."""
    try:
        url = httpx.URL(base_url.strip())
    except httpx.InvalidURL:
        url = httpx.URL("invalid:")
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            "The LLM base URL must look like https://host/v1 or http://localhost:11434/v1 "
            "(check VIGIE_LLM_BASE_URL)"
        )
    return url


class LLMClient:
    """Synchronous client for an OpenAI-compatible chat-completions API.

    ``base_url`` is the API root, e.g. ``https://api.openai.com/v1`` or
    ``http://localhost:11434/v1`` (Ollama). ``api_key`` may be empty for local servers; the
    ``Authorization: Bearer`` header is only sent when it is set. ``max_tokens`` is the
    default token budget of a completion, reasoning included. ``max_retries`` is the
    number of retries after the first attempt, for 408/429/5xx answers, connection errors
    and timeouts. ``sleep`` and ``transport`` exist for tests.
    """

    BACKOFF_BASE_S = 0.5
    BACKOFF_CAP_S = 8.0
    RETRY_AFTER_CAP_S = 30.0

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str,
        timeout: float = 30,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        base_url = (base_url or "").strip()
        model = (model or "").strip()
        if not base_url:
            raise ValueError("The LLM base URL is empty (set VIGIE_LLM_BASE_URL)")
        if not model:
            raise ValueError("The LLM model is empty (set VIGIE_LLM_MODEL)")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        if max_tokens < 1:
            raise ValueError("max_tokens must be >= 1")
        self.max_tokens = max_tokens
        # Set once the model refused max_tokens or temperature: later requests are sent the
        # way it takes them instead of failing first each time.
        self._completion_tokens = False
        key = checked_api_key(api_key)
        self._api_key = key
        self.model = model
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self._sleep = sleep
        self._base = checked_base_url(base_url)
        self.base_url = _display_url(self._base)
        headers = {"Accept": "application/json", "User-Agent": "vigie-llm/1"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        key_state = "set" if self._api_key else "none"
        return f"LLMClient(base_url={self.base_url!r}, model={self.model!r}, api_key={key_state})"

    def __enter__(self) -> LLMClient:
        """Use the client in a ``with`` block; it is closed on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the client."""
        self.close()

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    # -- public API -----------------------------------------------------------------

    def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        temperature: float = 0.4,
        max_tokens: int | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> ChatResult:
        """Send ``messages`` (``{"role", "content"}`` dicts) and return the first choice.

        ``max_tokens`` defaults to the client's budget. Raises an ``LLMError`` subclass on
        failure; an empty answer is an ``LLMBadResponseError``.
        """
        if not messages:
            raise ValueError("messages must not be empty")
        budget = max_tokens or self.max_tokens
        extra = {"response_format": dict(response_format)} if response_format else {}
        started = time.monotonic()
        data, used = self._complete(messages, temperature, budget, extra)
        text, model, usage, finish_reason = self._parse_completion(
            data, allow_empty=False, budget=used, fitted=used < budget)
        latency = time.monotonic() - started
        logger.debug(
            "LLM answered: model=%s latency=%.2fs tokens=%s",
            model,
            latency,
            usage.total_tokens if usage else "?",
        )
        return ChatResult(text=text, model=model, usage=usage, latency_s=latency,
                          finish_reason=finish_reason)

    def check(self) -> str:
        """Check the provider is reachable, the key accepted, the model known and writing.

        Lists models with ``GET /models`` (when the endpoint exists), then asks for a small
        real completion with the configured budget and requires text back: a model that
        refuses Vigie's parameters, or spends the whole budget thinking, fails here rather
        than on the first draft. Returns a one-line summary for ``vigie doctor``; raises an
        ``LLMError`` subclass on failure.
        """
        listed: list[str] | None = None
        try:
            models = self._request_json("GET", "models", None)
            listed = _model_ids(models)
        except (LLMEndpointNotFoundError, LLMModelNotFoundError, LLMBadResponseError):
            listed = None
        except LLMRequestError as exc:
            if exc.status not in (405, 501):
                raise
            listed = None
        try:
            data, used = self._complete(
                [{"role": "user", "content": "Reply with the single word OK."}],
                0, self.max_tokens, {})
        except LLMTimeoutError as err:
            err.listed_models = listed
            raise
        _, model, _, _ = self._parse_completion(data, allow_empty=False, budget=used,
                                                fitted=used < self.max_tokens)
        how = (" (with max_completion_tokens and its own temperature)"
               if self._completion_tokens else "")
        if listed is not None and self.model in listed:
            return (
                f"{self.base_url}: model '{self.model}' is available "
                f"({len(listed)} model{'s' if len(listed) != 1 else ''} listed) "
                f"and answered a test completion{how}"
            )
        return f"{self.base_url}: model '{model}' answered a test completion{how}"

    # -- internals ------------------------------------------------------------------

    def _complete(self, messages: Sequence[Mapping[str, Any]], temperature: float,
                  budget: int, extra: Mapping[str, Any]) -> tuple[Any, int]:
        """POST a completion; return its JSON and the budget it was asked with.

        Asked again once when the model refuses ``max_tokens`` or ``temperature`` (then with
        ``max_completion_tokens`` and no temperature, remembered), and once when its context
        refuses the prompt with the budget (then with a budget that fits this prompt).
        The fitted budget is not remembered: it depends on this prompt's length, and a
        shorter prompt later has room for the whole budget. Every request starts with the
        budget asked; only a prompt that leaves too little room pays the refusal, answered
        before any token is generated, and the provider's own count fits it exactly where
        an estimate of the prompt's tokens would not know the model's tokenizer.
        """
        asked = budget
        fitted = False
        while True:
            try:
                return self._request_json(
                    "POST", "chat/completions",
                    self._payload(messages, temperature, budget, extra)), budget
            except LLMUnsupportedParameterError as err:
                if self._completion_tokens:
                    raise
                logger.info("LLM model %s refused '%s' (%s); asking with "
                            "max_completion_tokens and no temperature from now on",
                            self.model, err.param, err.provider_message)
                self._completion_tokens = True
            except LLMContextLengthError as err:
                smaller = None if fitted else _budget_that_fits(err, budget)
                if smaller is None:
                    if fitted or _budget_to_blame(err):
                        raise self._budget_error(err, asked) from err
                    raise
                logger.info("LLM model %s has no room for a budget of %d tokens with this "
                            "prompt (%s); asking it with %d", self.model, budget,
                            err.provider_message, smaller)
                budget, fitted = smaller, True

    def _budget_error(self, err: LLMContextLengthError, asked: int) -> LLMContextLengthError:
        """The refusal to show when the budget is to blame: it names VIGIE_LLM_MAX_TOKENS
        and, when known, the model's context."""
        args: dict[str, Arg] = {"model": Text(self.model, _MAX_URL), "tokens": asked}
        key = "context_budget_unknown"
        if err.context_tokens is not None:
            key, args["context"] = "context_budget", err.context_tokens
        error = LLMContextLengthError(key, status=err.status,
                                      provider_message=err.provider_message, **args)
        error.context_tokens, error.prompt_tokens = err.context_tokens, err.prompt_tokens
        error.budget_named = err.budget_named
        return error

    def _payload(self, messages: Sequence[Mapping[str, Any]], temperature: float,
                 budget: int, extra: Mapping[str, Any]) -> dict[str, Any]:
        payload: dict[str, Any] = {"model": self.model,
                                   "messages": [dict(m) for m in messages]}
        if self._completion_tokens:
            payload["max_completion_tokens"] = budget
        else:
            payload["temperature"] = temperature
            payload["max_tokens"] = budget
        return {**payload, "stream": False, **extra}

    def _url(self, path: str) -> httpx.URL:
        base_path = self._base.path.rstrip("/")
        return self._base.copy_with(path=f"{base_path}/{path}")

    def _request_json(self, method: str, path: str, payload: dict[str, Any] | None) -> Any:
        """Send one request with retries; return the decoded JSON of a 2xx answer."""
        url = self._url(path)
        try:
            return call_with_retries(
                lambda: self._attempt_json(method, url, payload),
                attempts=self.max_retries + 1,
                retry_if=lambda err: isinstance(err, _Retry),
                wait=self._retry_wait,
                before_sleep=self._log_retry,
                sleep=self._sleep,
            )
        except _Retry as failed:
            error, cause = failed.error, failed.cause
        if cause is error:
            raise error
        raise error from cause

    def _attempt_json(self, method: str, url: httpx.URL, payload: dict[str, Any] | None) -> Any:
        """One try: the decoded JSON of a 2xx answer, or a ``_Retry`` for what may pass."""
        try:
            response = self._fetch(method, url, payload)
        except httpx.TimeoutException as exc:
            raise _Retry(
                LLMTimeoutError("timeout", seconds=f"{self.timeout:g}"),
                exc,
            ) from None
        except httpx.DecodingError as exc:
            raise LLMBadResponseError("bad_encoding") from exc
        except httpx.RequestError as exc:
            raise _Retry(
                LLMUnavailableError("unreachable", url=Text(self.base_url, _MAX_URL)),
                exc,
            ) from None
        if 200 <= response.status_code < 300:
            return self._decode(response)
        error = self._error_from_response(response)
        if not error.retryable:
            raise error
        raise _Retry(error, error, self._retry_after(response))

    def _fetch(self, method: str, url: httpx.URL, payload: dict[str, Any] | None
               ) -> httpx.Response:
        """Send the request and read its answer, at most MAX_RESPONSE_BYTES (decoded) within
        the client's timeout in all.

        httpx's timeouts are per read: a provider (or a proxy in front of it) trickling its
        body a byte at a time, or sending gigabytes, held a worker and its memory for as
        long as it liked. The deadline is checked as each chunk arrives, so an attempt ends
        at most one read timeout past it.
        """
        deadline = time.monotonic() + self.timeout
        with self._http.stream(method, url, json=payload) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise LLMBadResponseError(
                        "too_large", status=response.status_code,
                        mb=MAX_RESPONSE_BYTES // (1024 * 1024),
                    )
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the answer took longer than the timeout in all")
                chunks.append(chunk)
        # The body is decoded already: the copy must not say it is compressed.
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length",
                                        "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=b"".join(chunks),
                              request=response.request)

    def _retry_wait(self, failed: BaseException, attempt: int) -> float:
        """Seconds to wait after failed ``attempt`` (from 1): what was asked, else backoff."""
        asked = failed.asked if isinstance(failed, _Retry) else None
        return retry_delay(self._backoff(attempt - 1), asked)

    def _log_retry(self, failed: BaseException, attempt: int, wait: float) -> None:
        if isinstance(failed, _Retry):
            logger.warning(
                "LLM request failed (%s); retry %d/%d in %.1f s",
                _describe(failed.error, failed.cause),
                attempt,
                self.max_retries,
                wait,
            )

    def _backoff(self, attempt: int) -> float:
        base = exponential(attempt, base=self.BACKOFF_BASE_S, cap=self.BACKOFF_CAP_S)
        return added_jitter(base, self.BACKOFF_BASE_S)

    def _retry_after(self, response: httpx.Response) -> float | None:
        """Seconds the provider asked us to wait (Retry-After / retry-after-ms), capped."""
        wait = parse_retry_after(response.headers, time.time(), millis=True, reset_headers=())
        if wait is None:
            return None
        return min(wait, self.RETRY_AFTER_CAP_S)

    def _decode(self, response: httpx.Response) -> Any:
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LLMBadResponseError("not_json", status=response.status_code) from exc
        # Some gateways answer 200 with an error body.
        if isinstance(data, dict) and data.get("error") and "choices" not in data:
            raise self._error_from_response(response, data)
        return data

    def _parse_completion(
        self, data: Any, *, allow_empty: bool, budget: int | None = None,
        fitted: bool = False,
    ) -> tuple[str, str, Usage | None, str | None]:
        # ``fitted``: ``budget`` is what the context left this prompt, smaller than
        # VIGIE_LLM_MAX_TOKENS; raising the setting would not help then.
        if not isinstance(data, dict):
            raise LLMBadResponseError("not_object")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise LLMBadResponseError("no_choices")
        choice = choices[0]
        message = choice.get("message")
        content: Any = message.get("content") if isinstance(message, dict) else None
        if content is None and isinstance(choice.get("text"), str):
            content = choice["text"]  # legacy completions shape, served by some proxies
        if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            content = "".join(
                part.get("text", "")
                for part in content
                if isinstance(part, dict) and isinstance(part.get("text"), str)
            )
        if content is not None and not isinstance(content, str):
            raise LLMBadResponseError("not_text")
        text = (content or "").strip()
        reason = choice.get("finish_reason")
        if not text and not allow_empty:
            if reason == "length" and budget is not None:
                # A thinking model spent the whole budget reasoning (Ollama's qwen3, gpt-5).
                raise LLMBadResponseError("budget_spent_fitted" if fitted else "budget_spent",
                                          tokens=budget,
                                          model=Text(self.model, _MAX_URL))
            if isinstance(reason, str):
                raise LLMBadResponseError("empty_reason", reason=Text(reason, 40))
            raise LLMBadResponseError("empty")
        model = data.get("model") if isinstance(data.get("model"), str) else None
        finish_reason = reason[:40] if isinstance(reason, str) else None
        return text, model or self.model, _usage(data.get("usage")), finish_reason

    def _error_from_response(self, response: httpx.Response, data: Any = None) -> LLMError:
        """Turn an error answer into the matching ``LLMError`` (retryable ones flagged)."""
        status = response.status_code
        if data is None:
            try:
                data = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                data = None
        code, message, has_error_body = _error_fields(data)
        if message is None and data is None:
            message = response.text[:_MAX_PROVIDER_MESSAGE] or None
        provider_message = self._redact(message)
        model_name = Text(self.model, _MAX_URL)
        code_l = (code or "").lower()

        def make(cls: type[LLMError], key: str, *, retryable: bool = False,
                 **args: Arg) -> LLMError:
            error = cls(key, status=status, provider_message=provider_message, **args)
            error.retryable = retryable
            return error

        refused = _refused_param(data, message) if status == 400 else None
        if refused is not None:
            unsupported = make(LLMUnsupportedParameterError, "rejected", code=status)
            assert isinstance(unsupported, LLMUnsupportedParameterError)
            unsupported.param = refused
            return unsupported

        if code_l in _CONTEXT_CODES or (message and _CONTEXT_WORDS.search(message)):
            context = make(LLMContextLengthError, "context_length", model=model_name)
            assert isinstance(context, LLMContextLengthError)
            context.context_tokens, context.prompt_tokens = _context_numbers(data, message)
            context.budget_named = bool(message and _BUDGET_NAMED.search(message))
            return context
        missing_model = bool(message and _MODEL_MISSING.search(message))
        if (
            code_l in _MODEL_NOT_FOUND_CODES
            or (missing_model and 400 <= status < 500 and status not in (401, 403, 429))
            or (status == 404 and (has_error_body or missing_model))
        ):
            return make(LLMModelNotFoundError, "model_not_found", model=model_name)
        if status in (401, 403):
            if not self._api_key:
                return make(LLMAuthError, "no_key")
            return make(LLMAuthError, "key_refused")
        if status == 404:
            return make(LLMEndpointNotFoundError, "endpoint_not_found",
                        url=Text(self.base_url, _MAX_URL))
        if code_l in _QUOTA_CODES:
            return make(LLMQuotaError, "quota")
        if status == 429:
            return make(LLMRateLimitError, "rate_limited", retryable=True)
        if status == 408:
            return make(LLMTimeoutError, "timeout_http", retryable=True)
        if status >= 500:
            return make(LLMUnavailableError, "unavailable", retryable=True, code=status)
        if 300 <= status < 400:
            return make(LLMRequestError, "redirected", code=status)
        if 200 <= status < 300:
            return make(LLMBadResponseError, "error_body")
        return make(LLMRequestError, "rejected", code=status)

    def _redact(self, text: str | None) -> str | None:
        if not text:
            return text
        text = text[:_MAX_PROVIDER_MESSAGE]
        if self._api_key:
            text = text.replace(self._api_key, "[redacted]")
        return _SECRET_LIKE.sub("[redacted]", text)


class _Retry(Exception):
    """A failed try that may pass: the error to raise if none is left, its cause, the wait asked."""

    def __init__(self, error: LLMError, cause: Exception, asked: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.cause = cause
        self.asked = asked


def _describe(error: LLMError, cause: Exception) -> str:
    if error.status is not None:
        return f"HTTP {error.status}"
    return type(cause).__name__


def _error_fields(data: Any) -> tuple[str | None, str | None, bool]:
    """(code, message, has_error_body) from OpenAI, Ollama, vLLM or llama.cpp error bodies."""
    if not isinstance(data, dict):
        return None, None, False
    err = data.get("error")
    if isinstance(err, str):  # Ollama native and some proxies: {"error": "model not found"}
        return None, err, True
    if isinstance(err, dict):
        code = err.get("code") or err.get("type")
        message = err.get("message")
        return (
            str(code) if isinstance(code, str) else None,
            message if isinstance(message, str) else None,
            True,
        )
    # vLLM: {"object": "error", "message": ..., "type": ..., "code": 404}
    message = data.get("message") or data.get("detail")
    if isinstance(message, str):
        code = data.get("code") or data.get("type")
        return (str(code) if isinstance(code, str) else None, message, True)
    return None, None, False


def _refused_param(data: Any, message: str | None) -> str | None:
    """``max_tokens`` or ``temperature`` when a 400's body says the model refuses it:
    OpenAI's ``{"error": {"code": "unsupported_parameter" | "unsupported_value",
    "param": ...}}``, or a gateway passing on only its message."""
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        code, param = err.get("code"), err.get("param")
        if code in _UNSUPPORTED_CODES and param in _LEGACY_PARAMS:
            return str(param)
    found = _LEGACY_PARAM_REFUSED.search(message or "")
    return (found.group(1) or found.group(2)) if found else None


def _context_numbers(data: Any, message: str | None) -> tuple[int | None, int | None]:
    """(context tokens, prompt tokens) from a context-length refusal: from vLLM's and
    OpenAI's message, or llama.cpp's ``n_ctx`` and ``n_prompt_tokens`` fields."""
    err = data.get("error") if isinstance(data, dict) else None
    fields = err if isinstance(err, dict) else {}

    def field(name: str) -> int | None:
        value = fields.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def number(pattern: re.Pattern[str]) -> int | None:
        found = pattern.search(message or "")
        return int(next(g for g in found.groups() if g)) if found else None

    context = field("n_ctx") or number(_CONTEXT_SIZE)
    prompt = field("n_prompt_tokens") or number(_PROMPT_SIZE)
    return context, prompt


def _budget_to_blame(err: LLMContextLengthError) -> bool:
    """Whether the completion budget is part of why the context refused the request: the
    provider says so, or the prompt alone fits."""
    if err.budget_named:
        return True
    return (err.context_tokens is not None and err.prompt_tokens is not None
            and err.prompt_tokens < err.context_tokens)


def _budget_that_fits(err: LLMContextLengthError, budget: int) -> int | None:
    """A smaller budget to ask again with, or None when none would help: the room the
    prompt leaves in the context when the provider gave both numbers, else
    FALLBACK_FITTED_BUDGET; never below MIN_FITTED_BUDGET."""
    if not _budget_to_blame(err):
        return None
    if err.context_tokens is not None and err.prompt_tokens is not None:
        room = err.context_tokens - err.prompt_tokens
    else:
        room = FALLBACK_FITTED_BUDGET
    return room if MIN_FITTED_BUDGET <= room < budget else None


def _model_ids(data: Any) -> list[str] | None:
    """Model ids from ``GET /models`` (OpenAI ``data`` list, or Ollama-style ``models``)."""
    if not isinstance(data, dict):
        return None
    items = data.get("data")
    if not isinstance(items, list):
        items = data.get("models")
    if not isinstance(items, list):
        return None
    ids: list[str] = []
    for item in items:
        if isinstance(item, dict):
            ident = item.get("id") or item.get("name") or item.get("model")
            if isinstance(ident, str):
                ids.append(ident)
        elif isinstance(item, str):
            ids.append(item)
    return ids


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None

    def num(name: str) -> int:
        value = raw.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    prompt, completion = num("prompt_tokens"), num("completion_tokens")
    return Usage(prompt, completion, num("total_tokens") or prompt + completion)


def _display_url(url: httpx.URL) -> str:
    """The base URL without credentials or query string, safe to show and log."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path.rstrip('/')}"


def _secret_str(value: str | _SecretLike | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.get_secret_value()


def from_config(
    base_url: str | None,
    api_key: str | _SecretLike | None,
    model: str | None,
    **kwargs: Any,
) -> LLMClient | None:
    """Build an ``LLMClient`` from settings, or return None when the LLM is not configured.

    The LLM is configured when both ``base_url`` and ``model`` are non-blank; ``api_key``
    is optional (local servers) and may be a pydantic ``SecretStr``. Extra keyword
    arguments go to ``LLMClient`` (timeout, max_retries...).
    """
    base = (base_url or "").strip()
    name = (model or "").strip()
    if not base or not name:
        return None
    return LLMClient(base, _secret_str(api_key), name, **kwargs)
