from datetime import UTC, datetime, timedelta

import pytest

from bot.analysis.priority import DEFAULT_ALERT_THRESHOLD, SPAM_CAP, score_priority

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def score(**kwargs: object) -> tuple[int, str]:
    args: dict[str, object] = {
        "intent": "other",
        "sentiment_score": 0.0,
        "sentiment_label": "neutral",
        "now": NOW,
    }
    args.update(kwargs)
    return score_priority(**args)  # type: ignore[arg-type]


def test_reason_reads_like_the_card() -> None:
    value, reason = score(
        intent="complaint", sentiment_score=-0.7, sentiment_label="negative", followers=48_213
    )
    assert reason == "complaint · 48k followers"  # a complaint is negative: said once
    assert 0 <= value <= 100


def test_risk_outranks_complaint_outranks_praise() -> None:
    risk = score(intent="risk", risk_kinds=("legal",))[0]
    complaint = score(intent="complaint")[0]
    praise = score(intent="praise", sentiment_score=0.8, sentiment_label="positive")[0]
    assert risk > complaint > praise


def test_each_factor_raises_the_score() -> None:
    base = score(intent="question")[0]
    assert score(intent="question", sentiment_score=-0.9, sentiment_label="negative")[0] > base
    assert score(intent="question", followers=100_000)[0] > base
    assert (
        score(intent="question", followers=100_000, verified=True)[0]
        > score(intent="question", followers=100_000)[0]
    )
    assert score(intent="question", engagement=300)[0] > base
    assert (
        score(intent="question", published_at=NOW - timedelta(minutes=5))[0]
        > score(intent="question", published_at=NOW - timedelta(hours=20))[0]
    )
    assert score(intent="question", watch_weight=2.0)[0] > base


def test_reason_mentions_age_engagement_and_weight() -> None:
    _, reason = score(
        intent="risk",
        risk_kinds=("legal", "data_breach"),
        engagement=1_500,
        verified=True,
        published_at=NOW - timedelta(days=3),
        watch_weight=0.5,
    )
    assert reason == (
        "risk: legal, data breach · verified · 1.5k interactions · 3 d old · watch ×0.5"
    )


def test_bounds_and_spam_cap() -> None:
    top = score(
        intent="risk",
        risk_kinds=("legal", "safety", "crisis"),
        sentiment_score=-1.0,
        sentiment_label="negative",
        followers=10**8,
        verified=True,
        engagement=10**6,
        published_at=NOW,
        watch_weight=3.0,
    )
    assert top[0] == 100
    assert score(intent="spam", followers=10**8, engagement=10**6, watch_weight=3.0)[0] <= SPAM_CAP
    assert score(intent="praise", watch_weight=0.0)[0] == 0
    assert score()[1] == "routine mention"


def test_naive_datetimes_are_utc_and_future_is_fresh() -> None:
    naive_now = NOW.replace(tzinfo=None)
    assert score(published_at=naive_now, now=naive_now) == score(published_at=NOW)
    assert score(published_at=NOW + timedelta(hours=1)) == score(published_at=NOW)


def test_pure_function_of_its_inputs() -> None:
    kwargs = {"intent": "question", "followers": 1234, "published_at": NOW - timedelta(hours=2)}
    assert score(**kwargs) == score(**kwargs)


def test_unknown_intent_is_refused() -> None:
    with pytest.raises(ValueError, match="intent"):
        score(intent="rant")


ALERT = DEFAULT_ALERT_THRESHOLD


def test_what_needs_an_answer_alerts_whoever_wrote_it() -> None:
    assert score(intent="complaint")[0] >= ALERT
    assert score(intent="risk", risk_kinds=("safety",))[0] >= ALERT
    assert score(intent="question", waiting=True)[0] >= ALERT
    assert score(intent="purchase_intent", waiting=True)[0] >= ALERT
    value, reason = score(intent="other", waiting=True, published_at=NOW)
    assert value >= ALERT and reason == "waiting for an answer"
    assert score(intent="complaint", waiting=True)[1] == "complaint · waiting for an answer"


def test_praise_chitchat_and_noise_never_alert_on_their_own() -> None:
    loud = {"followers": 10**7, "verified": True, "engagement": 10**6}
    for intent in ("praise", "other", "spam"):
        assert score(intent=intent, sentiment_score=0.9, sentiment_label="positive",
                     **loud)[0] < ALERT
    assert score(intent="question")[0] < ALERT  # asked of nobody in particular
    assert score(intent="question", followers=100_000)[0] > score(intent="question")[0]


def test_writing_again_counts_more_than_a_first_message() -> None:
    again, reason = score(intent="question", waiting=True, repeat_contact=True)
    assert again > score(intent="question", waiting=True)[0]
    assert reason == "question · writes again"


@pytest.mark.parametrize("intent", ["other", "praise", "spam"])
def test_writing_again_with_nothing_to_answer_adds_nothing(intent: str) -> None:
    # "👍", "lol" or "solved, thanks!" in a case: nobody waits for an answer.
    assert score(intent=intent, repeat_contact=True) == score(intent=intent)
    assert score(intent=intent, repeat_contact=True)[0] < ALERT


def test_a_language_no_model_reads_is_scored_from_its_signs() -> None:
    plain, reason = score(sentiment_score=-0.9, sentiment_label="negative",
                          language_analysed=False)
    assert reason == "language not analysed"
    assert plain == score()[0]  # the English model's guess on Spanish text is ignored
    upset, reason = score(language_analysed=False, negative_emoji=2, order_number=True,
                          waiting=True)
    assert upset > plain and upset >= ALERT
    assert reason == ("language not analysed · negative emoji · order number · "
                      "waiting for an answer")


def test_age_takes_points_away() -> None:
    fresh = score(intent="complaint", followers=48_000, published_at=NOW)[0]
    assert fresh == score(intent="complaint", followers=48_000)[0]
    old = score(intent="complaint", followers=48_000, published_at=NOW - timedelta(days=2))
    assert old[0] == fresh - 10 and old[1] == "complaint · 48k followers · 2 d old"
    assert score(intent="question", published_at=NOW - timedelta(days=2))[0] == 25
    assert score(intent="praise", published_at=NOW - timedelta(hours=12))[0] == 5


AGES = [timedelta(minutes=5), timedelta(minutes=72), timedelta(hours=2), timedelta(hours=6),
        timedelta(hours=23), timedelta(days=3)]


@pytest.mark.parametrize("age", AGES)
@pytest.mark.parametrize("kwargs", [
    {"intent": "complaint"},
    {"intent": "risk", "risk_kinds": ("legal",)},
    {"intent": "other", "waiting": True},
    {"intent": "question", "waiting": True},
    {"intent": "other", "waiting": True, "language_analysed": False},
])
def test_what_owes_an_answer_still_alerts_when_found_late(
        kwargs: dict[str, object], age: timedelta) -> None:
    # A complaint found two hours late (a feed polled late, a catch-up) still needs one.
    assert score(**kwargs, published_at=NOW - age)[0] >= ALERT
    assert score(**kwargs, published_at=NOW - age)[0] <= score(**kwargs)[0]
