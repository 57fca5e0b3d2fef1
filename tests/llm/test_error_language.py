"""An LLM failure is a catalogue phrase (``llm_error.*``): the editor's note says why in the
reader's language, French included, while ``str(err)`` stays English for logs. Each error is
provoked for real, against a local HTTP server standing in for the provider."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.i18n import catalogue, t
from bot.llm import MAX_RESPONSE_BYTES, LLMClient, LLMError
from bot.slack.phrases import render_phrase

MESSAGES = [{"role": "user", "content": "bonjour"}]
ENGLISH = ("The LLM", "the LLM provider", "could not", "try again", "answer", "Vigie could")
"""Words of the English messages that no French one contains."""


def _json(body: Any, status: int = 200) -> Callable[[Request], Response]:
    return lambda _request: Response(json.dumps(body), status=status,
                                     content_type="application/json")


def _huge(_request: Request) -> Response:
    return Response(b'{"x":"' + b"a" * (MAX_RESPONSE_BYTES + 10) + b'"}',
                    content_type="application/json")


def _completion(content: Any, finish_reason: str | None = "length") -> dict[str, Any]:
    return {"model": "m", "choices": [{"index": 0, "finish_reason": finish_reason,
                                       "message": {"role": "assistant", "content": content}}]}


def _error(message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


# (kind, the provider's answer, a French fragment the note must carry)
CASES: list[tuple[str, Callable[[Request], Response], str]] = [
    ("unavailable", _json(_error("boom"), 500), "indisponible pour le moment (HTTP 500)"),
    ("not_json", lambda _r: Response("<html>oops</html>", content_type="text/html"),
     "(pas du JSON)"),
    ("too_large", _huge, "trop volumineuse pour être lue (plus de 8 Mo)"),
    ("bad_encoding", lambda _r: Response(b"not gzip", headers={"Content-Encoding": "gzip"},
                                         content_type="application/json"),
     "(encodage invalide)"),
    ("not_object", _json([1, 2]), "(pas un objet JSON)"),
    ("no_choices", _json({"choices": []}), "(aucun choix)"),
    ("not_text", _json(_completion(5)), "(le contenu n'est pas du texte)"),
    ("empty_reason", _json(_completion("  ", "content_filter")),
     "réponse vide (finish_reason=content_filter)"),
    ("budget_spent", _json(_completion("")),
     "le modèle « gpt-&lt;b&gt; » du LLM a épuisé son budget de 2000 tokens"),
    ("empty", _json(_completion("", None)), "réponse vide"),
    ("error_body", _json(_error("something odd")), "une erreur à la place d'une réponse"),
    ("context_length", _json(_error("maximum context length is 8192 tokens",
                                    "context_length_exceeded"), 400),
     "trop longue pour que le modèle « gpt-&lt;b&gt; » y réponde"),
    ("context_budget", _json({"object": "error", "code": 400, "message": (
        "This model's maximum context length is 2048 tokens. However, you requested 4040 "
        "tokens (2040 in the messages, 2000 in the completion).")}, 400),
     "le modèle « gpt-&lt;b&gt; » du LLM ne peut pas faire tenir la mention et un budget de "
     "réponse de 2000 tokens (VIGIE_LLM_MAX_TOKENS) dans son contexte (2048 tokens)"),
    ("context_budget_unknown", _json(_error("Context window exceeded: lower max_tokens"), 400),
     "(VIGIE_LLM_MAX_TOKENS) dans son contexte, même avec un budget réduit ; baissez"),
    ("model_not_found", _json(_error("The model does not exist", "model_not_found"), 404),
     "ne connaît pas le modèle « gpt-&lt;b&gt; »"),
    ("key_refused", _json(_error("Incorrect API key", "invalid_api_key"), 401),
     "a refusé la clé d'API"),
    ("endpoint_not_found", lambda _r: Response("Not Found", status=404),
     "aucune API compatible OpenAI ne répond à http://"),
    ("quota", _json(_error("You exceeded your quota", "insufficient_quota"), 429),
     "n'a plus de quota ni de crédit"),
    ("rate_limited", _json(_error("slow down"), 429), "limite le débit de Vigie"),
    ("timeout_http", lambda _r: Response("", status=408), "a mis trop de temps à répondre ;"),
    ("redirected", lambda _r: Response("", status=301, headers={"Location": "https://x/"}),
     "a redirigé Vigie ailleurs (HTTP 301)"),
    ("rejected", _json(_error("bad request"), 422), "a refusé la requête (HTTP 422)"),
]


def _failure(llm: LLMClient) -> LLMError:
    with pytest.raises(LLMError) as caught:
        llm.chat(MESSAGES)
    return caught.value


def _assert_french(err: LLMError, kind: str, fragment: str) -> None:
    assert err.phrase.key == f"llm_error.{kind}"
    french = render_phrase(err.phrase, "fr")
    note = t("fr", "modal.llm_failed", error=french)
    assert fragment in note
    assert note.startswith("Pas de suggestion du LLM (") and note.endswith("voici le modèle.")
    assert not [word for word in ENGLISH if word in french], french
    # Logs keep the English words.
    assert str(err) == render_phrase(err.phrase, "en").replace("&lt;", "<").replace("&gt;", ">")
    assert any(word in str(err) for word in ENGLISH)


@pytest.mark.parametrize(("kind", "answer", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_each_llm_error_reaches_a_french_reader_in_french(
        httpserver: HTTPServer, kind: str, answer: Callable[[Request], Response],
        fragment: str) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(answer)
    with LLMClient(httpserver.url_for("/v1"), "sk-test-key-not-real-000000", "gpt-<b>",
                   timeout=0.5, max_retries=0, sleep=lambda _s: None) as llm:
        err = _failure(llm)
    _assert_french(err, kind, fragment)


def test_no_key_timeout_and_unreachable_are_french_too(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(
        _json(_error("Missing bearer"), 401))
    with LLMClient(httpserver.url_for("/v1"), None, "m", max_retries=0,
                   sleep=lambda _s: None) as llm:
        _assert_french(_failure(llm), "no_key", "demande une clé d'API")
    with socket.socket() as silent:  # connections queue in the backlog, never answered
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        with LLMClient(f"http://127.0.0.1:{silent.getsockname()[1]}/v1", None, "m",
                       timeout=0.5, max_retries=0, sleep=lambda _s: None) as llm:
            _assert_french(_failure(llm), "timeout",
                           "a mis trop de temps à répondre (plus de 0.5 s)")
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with LLMClient(f"http://127.0.0.1:{port}/v1", None, "m", max_retries=0,
                   sleep=lambda _s: None) as llm:
        _assert_french(_failure(llm), "unreachable",
                       f"n'a pas pu joindre le fournisseur du LLM à http://127.0.0.1:{port}/v1")


def test_every_llm_error_phrase_is_written_in_both_languages() -> None:
    english = {k: v for k, v in catalogue("en").items() if k.startswith("llm_error.")}
    french = {k: v for k, v in catalogue("fr").items() if k.startswith("llm_error.")}
    assert english.keys() == french.keys() and len(english) >= 20
    for key, text in english.items():
        assert french[key] != text, key
