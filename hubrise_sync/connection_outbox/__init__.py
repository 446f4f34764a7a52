"""The connection outbox: what HubRise must learn about a whole connection, latest state wins.

The order outbox (``hubrise_sync.outbox``) keeps one message per change of an
order, each sent in turn. A location's pause, a catalog or an inventory is
different: only the state at the time of sending matters, and ten edits in a
minute are one call. So there is one row per connection and topic
(``models.ConnectionMessage``) counting versions: a change bumps
``requested_version``; a delivery records the version it sent; while the two
differ the row is due again. Read in this order:

- ``topic``: what a topic is (``Topic``) and what its ``send`` gets (``TopicSending``).
- ``request``: ``request_send(connection, topic)``, called inside the transaction
  that changed what the topic sends; debounces and wakes the drain after commit.
- ``state``: the only writer of a row's state and lease (claim, record, hold, retry).
- ``drain``: the Celery task's loop: claim what is due, send outside any
  transaction, within the connection's rate limit, record.
- ``wake``: queueing the drain (after commit, at a due time, from beat's sweep).
- ``status``: what the HubRise settings page says of each topic.

How to add a topic (say ``catalog``):

1. Write ``topics/<name>.py`` with ``send(sending: TopicSending) -> Result``,
   which builds the payload from the current state, stores it in
   ``result.payload`` and makes the call through ``hubrise_sync.outbox.result.call``
   (which turns HubRise's answer into the retry rules), and
   ``TOPIC = Topic(name=…, label=_(…), send=send, debounce=timedelta(…))``.
2. Add the module to ``TOPICS`` in ``topics/__init__.py``.
3. Call ``request_send(connection, "<name>")`` where the data changes (a signal
   receiver in the writer's transaction); never for a change that came from HubRise.

Retries, the 401 hold, the settings page and the admin then come for free.
The rules: docs/hubrise/connection-outbox.md.
"""
