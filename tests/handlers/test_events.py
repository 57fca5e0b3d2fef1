"""The events listener: App Home, published when the user opens it."""

from __future__ import annotations

from tests.e2e.conftest import VigieApp
from tests.harness.constants import USER_ID


def test_app_home_opened_publishes_the_home(vigie: VigieApp) -> None:
    assert vigie.slack.app_home_opened().status_code == 200
    (published,) = vigie.standin.wait_for("views.publish", timeout=15)
    assert published.args["user_id"] == USER_ID
    assert published.args["view"]["type"] == "home"

