import pytest

from bot.analysis.reach import AuthorActivity, format_reach, influence, rank_authors, reach_points


@pytest.mark.parametrize(
    ("followers", "text"),
    [(None, ""), (0, "0"), (999, "999"), (1_000, "1k"), (1_250, "1.2k"), (9_999, "9.9k"),
     (48_213, "48k"), (999_999, "999k"), (2_400_000, "2.4M"), (12_000_000, "12M"),
     (3_100_000_000, "3.1B")],
)  # fmt: skip
def test_format_reach(followers: int | None, text: str) -> None:
    assert format_reach(followers) == text


def test_format_reach_refuses_negative() -> None:
    with pytest.raises(ValueError):
        format_reach(-1)


def test_reach_points_scale() -> None:
    assert reach_points(None) == 0.0
    assert reach_points(50) == 0.0
    assert reach_points(10_000) == pytest.approx(0.5)
    assert reach_points(10**9) == 1.0
    assert reach_points(10_000, verified=True) == pytest.approx(0.6)


def test_rank_authors() -> None:
    authors = [
        AuthorActivity("small", followers=200, negative=1),
        AuthorActivity("big", followers=500_000, negative=2),
        AuthorActivity("Mid", followers=20_000),
        AuthorActivity("mid2", followers=20_000, engagement=500, negative=1),
    ]
    assert [a.handle for a in rank_authors(authors)] == ["big", "mid2", "Mid", "small"]
    assert [a.handle for a in rank_authors(authors, negative_only=True, limit=2)] == [
        "big",
        "mid2",
    ]
    assert influence(authors[3]) > influence(authors[2])
