"""What most order tests start from."""

import pytest

from tests.factories import make_establishment


@pytest.fixture
def establishment():
    """Le Petit Bistrot, with nothing set up: no menu, no HubRise connection, no printer."""
    return make_establishment()
