"""The outbox: what HubRise must learn about our orders, kept until it has learnt it.

One message per thing to send (create an order, send a status, …), written in the
transaction that changes the order, delivered by Celery workers with retries until
HubRise took it. Read in this order:

- ``state``: the only writer of a message's state and lease; one function per
  transition (new, claim, release, hold, record, supersede, retry, release held).
- ``kinds/``: one module per kind of message: which signal writes it and how it is
  sent. How to add a kind: ``kinds/__init__.py``.
- ``write``: what every kind does to write its message (connection, held or not,
  a drain woken once the order's transaction commits).
- ``wake``: waking a delivery drain without queueing one task per message.
- ``drain``: the delivery drain a Celery task runs: claim, send, record.
- ``in_doubt``: settling creates that may have reached HubRise unanswered.
- ``sweep``: beat's safety net (due messages nobody was told about, held ones released).
- ``badge``: what staff see of an order's sync.

The HubRise calls and their rules: docs/hubrise/orders.md and docs/hubrise/limits.md.
"""
