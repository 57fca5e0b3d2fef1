"""``fast_init`` keeps a frozen dataclass what it was: same arguments, defaults, checks."""

from __future__ import annotations

import dataclasses

import pytest

from bot.analysis.frozen import fast_init


@fast_init
@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    """A test class with a required field, defaults and a check."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse negative coordinates."""
        if self.x < 0:
            raise ValueError("negative")


def test_arguments_defaults_and_check_are_those_of_the_dataclass() -> None:
    assert Point(1) == Point(x=1, y=0, tags=())
    assert Point(1, 2, ("a",)).tags == ("a",)
    assert repr(Point(1, y=3)) == "Point(x=1, y=3, tags=())"
    assert hash(Point(1)) == hash(Point(1, 0))
    assert dataclasses.replace(Point(1), y=5) == Point(1, 5)
    with pytest.raises(ValueError, match="negative"):
        Point(-1)
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, z=2)  # type: ignore[call-arg]


def test_the_instance_stays_frozen() -> None:
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # type: ignore[misc]


def test_a_class_it_cannot_speed_up_is_refused() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        x: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class WithFactory:
        x: list[int] = dataclasses.field(default_factory=list)

    for cls in (NoSlots, WithFactory):
        with pytest.raises(TypeError):
            fast_init(cls)
