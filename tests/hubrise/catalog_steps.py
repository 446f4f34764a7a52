"""A passive connection's poll, as the catalog tests run it."""

from __future__ import annotations

from hubrise_sync import polling


def poll(connection, capture):
    """What a passive connection does every 30 s: fetch HubRise's events and apply them."""
    with capture(execute=True):
        result = polling.poll_connection(connection)
    assert not result.error, result.error
    return result
