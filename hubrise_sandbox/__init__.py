"""A stand-in for the HubRise API, run as its own process (``python -m hubrise_sandbox``).

It implements the part of the HubRise contract the back office uses, independently of
``hubrise_sync``, so that a mistake in our client shows up as a failure against it.
"""
