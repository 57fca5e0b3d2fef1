"""The events listener: App Home, published when the user opens it."""

from __future__ import annotations

from tests.e2e.conftest import VigieApp
from tests.harness.constants import USER_ID


def test_app_home_opened_publishes_the_home(vigie: VigieApp) -> None:
    assert vigie.slack.app_home_opened().status_code == 200
    (published,) = vigie.standin.wait_for("views.publish", timeout=15)
    assert published.args["user_id"] == USER_ID
    assert published.args["view"]["type"] == "home"



def test_a_new_users_locale_is_looked_up_after_the_ack(vigie: VigieApp) -> None:
    """Every surface has the locale lookup as a lazy listener; App Home's is one of them."""
    vigie.slack.app_home_opened()
    calls = vigie.standin.wait_for("users.info", timeout=15)
    assert calls[0].args["user"] == USER_ID
