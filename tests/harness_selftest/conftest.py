"""The harness self-tests use the harness fixtures."""

from tests.harness.fixtures import *  # noqa: F403
