"""Reports: the daily digest, `/cm stats`, share of voice and the monthly report.

Where things live:

- ``queries`` and ``counts``: the SQL aggregates every report shares (definitions of
  actionable, answered, open, overdue; volumes read from the hourly count tables).
- ``periods``: local days, windows and UTC offsets in a channel's time zone.
- ``schedule``: which channels get a digest, at what local time (`/cm digest set|off|empty`).
- ``digest_sections``: the figures of one channel's digest (``DigestReport``,
  ``build_digest_report``); ``digest``: posting it exactly once per channel and local day.
- ``stats``: `/cm stats`; ``share_of_voice`` and ``sov_export``: share of voice and its file;
  ``monthly``: the monthly report for management.

A new digest section: a field on ``DigestReport`` computed in ``build_digest_report``
(``digest_sections``), using or adding an aggregate in ``queries`` or ``counts`` when other
reports need it too; its Block Kit is drawn by ``bot.slack.digest_blocks``.
"""
