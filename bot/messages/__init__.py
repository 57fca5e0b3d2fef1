"""What services hand to Slack, as typed data: the delivery port (``OutgoingMessage``,
``DeliveryError``, the ``Notifier`` protocol) and the specs of the messages the renderers
in ``bot.slack`` turn into Block Kit at send time.

Services and ``bot.slack`` both import this package; it imports neither (nor storage,
handlers or slack_sdk), so the arrow between them runs one way: services -> messages <- slack.
"""
