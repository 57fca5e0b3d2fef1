"""Reports drawn from JSON-able specs (PDF, HTML): pure, no storage, no Slack."""
