"""The shared HTTP layer: one client, SSRF guard, fetcher protocol and transport errors.

Sources, publishers and the LLM client all talk to the network through this package;
it knows nothing of Slack, storage, services or handlers.
"""
