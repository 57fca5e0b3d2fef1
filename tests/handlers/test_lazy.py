"""`/cm`'s slow work runs in a Bolt lazy listener: the ack is empty and quick, the answer
comes to the response URL; role and rate-limit refusals stay in the ack, and the lazy
listener neither spends a second rate-limit token nor runs refused work."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

from bot.services.ratelimit import STATS, Policy, Rate, RateLimiter
from handlers.commands import Handoff
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_workflow import VIEWER, grant, seed, status
from tests.handlers.conftest import nth_response


def _ack(vigie: VigieApp, text: str, user_id: str = ADMIN_ID) -> dict[str, Any]:
    response = vigie.slack.slash_command(text, user_id=user_id)
    assert response.status_code == 200
    return response.json() if response.content else {}


def test_a_slow_subcommand_is_acknowledged_empty_and_answered_after(vigie: VigieApp) -> None:
    assert not _ack(vigie, "stats 7d").get("text"), "nothing but the ack"
    answer = nth_response(vigie, 1)
    assert "7 days" in answer["text"] or "7d" in answer["text"], answer["text"]
    assert answer["response_type"] == "ephemeral"


def test_a_command_naming_several_mentions_is_acknowledged_before_the_work(vigie: VigieApp
                                                                          ) -> None:
    """`/cm assign 41 42 43 @ana`: each mention is its own transaction after a look-up of
    Ana that may wait a second, so the ack is empty and the work and its answer come after
    it, whatever the count; a command naming one mention is still answered in the ack."""
    ids = [seed(vigie, f"Parcel {n} never arrived", handle=f"@u{n}@mastodon.social")
           for n in range(3)]
    vigie.standin.delay("users.info", 0.8)  # Ana's look-up: the work takes that long at least
    assert not _ack(vigie, f"assign {ids[0]} {ids[1]} {ids[2]} <@U07ANA0001|ana>").get("text")
    assert not vigie.standin.responses(), "the ack came before the work was done"
    answer = nth_response(vigie, 1)
    assert answer["text"].startswith("Done for 3 of 3 mentions:"), answer["text"]
    assert answer["response_type"] == "ephemeral"
    assert [status(vigie, mention_id) for mention_id in ids] == ["assigned"] * 3
    vigie.standin.delay("users.info", 0)
    assert _ack(vigie, f"ignore {ids[0]} 2 duplicates")["text"] == f"Mention #{ids[0]} ignored."
    assert not _ack(vigie, f"ignore {ids[1]},{ids[2]} duplicates").get("text")
    assert nth_response(vigie, 2)["text"].startswith("Done for 2 of 2 mentions:")
    assert len(vigie.standin.responses()) == 2


def test_the_lazy_listener_spends_no_second_token(vigie: VigieApp) -> None:
    """Two stats a minute: both run (one token each, the ack's), the third is refused in the
    ack and its lazy listener answers nothing."""
    vigie.runtime.limiter = RateLimiter(
        {STATS: Policy(user=Rate(2, 60), workspace=Rate(10, 60))}, clock=lambda: 0.0)
    for count in (1, 2):
        assert not _ack(vigie, "stats").get("text")
        nth_response(vigie, count)
    refused = _ack(vigie, "stats")
    assert "You ran `/cm stats` too often" in refused["text"]
    assert refused["response_type"] == "ephemeral"
    # A later slow command's answer is the next response: the refused one sent none.
    assert not _ack(vigie, "digest status").get("text")
    later = nth_response(vigie, 3)
    assert "digest" in later["text"].lower()
    assert len(vigie.standin.responses()) == 3


def test_a_role_refusal_of_a_slow_subcommand_is_in_the_ack(vigie: VigieApp) -> None:
    grant(vigie, VIEWER, "viewer")
    refused = _ack(vigie, "digest set 08:30", user_id=VIEWER)
    assert "You need the *admin* role" in refused["text"]
    assert not _ack(vigie, "digest status", user_id=VIEWER).get("text")
    assert "digest" in nth_response(vigie, 1)["text"].lower()
    assert len(vigie.standin.responses()) == 1


def test_the_handoff_waits_for_the_ack_word() -> None:
    """The lazy listener may start before its ack function has decided (Bolt runs them side
    by side): it waits for that decision."""
    handoff = Handoff()
    command = {"trigger_id": "1.2.abc", "response_url": "https://hooks.example/1"}
    taken: list[object] = []
    waiting = threading.Thread(
        target=lambda: taken.append(handoff.take(Handoff.key(command), timeout=30)))
    waiting.start()

    def work(_respond: object) -> None:
        return None

    handoff.give(Handoff.key(command), work)
    waiting.join()
    assert taken == [work]
    # Another invocation (another trigger id) gets its own word.
    other = {**command, "trigger_id": "1.2.def"}
    handoff.give(Handoff.key(other), None)
    assert handoff.take(Handoff.key(other), timeout=30) is None


def test_a_word_given_after_the_lazy_listener_gave_up_goes_back_to_the_ack() -> None:
    """An ack slower than the lazy listener's wait (a database pool timeout): its word is
    not stored where nothing would take it; ``give`` says so and the ack runs the work."""
    handoff = Handoff()
    key = Handoff.key({"trigger_id": "t1", "response_url": "https://hooks.example/1"})
    assert handoff.take(key, timeout=0.01) is None
    assert handoff.give(key, lambda _respond: None) is False
    assert handoff._slots == {} and handoff._abandoned == set()
    # The next command with that key (none in practice) is handed over as usual.
    assert handoff.give(key, None) is True
    assert handoff.take(key, timeout=0.01) is None
    assert handoff._slots == {}


def test_a_word_given_as_the_wait_times_out_is_not_lost(monkeypatch) -> None:
    """The ack gives its word between the end of the lazy listener's wait and its look at
    the slot: the work is taken, not dropped."""
    handoff = Handoff()
    key = "t2|https://hooks.example/2"

    def work(_respond: object) -> None:
        return None

    class LateEvent(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            arrived = super().wait(0)
            threading.Thread(target=handoff.give, args=(key, work)).start()
            time.sleep(0.05)  # the ack lands before take() looks again
            return arrived

    # Only the module's own name: the real threading module stays as it is.
    monkeypatch.setattr("handlers.commands.threading",
                        SimpleNamespace(Lock=threading.Lock, Event=LateEvent))
    assert handoff.take(key, timeout=0.01) is work


def test_a_command_without_ids_is_not_handed_over_by_a_shared_key() -> None:
    """Without a trigger id or response URL no key is unique to the command: there is none,
    so two such commands can never take each other's work."""
    assert Handoff.key({}) == ""
    assert Handoff.key({"trigger_id": None, "response_url": ""}) == ""
    assert Handoff.key({"trigger_id": "t3"}) != Handoff.key({"response_url": "t3"})
