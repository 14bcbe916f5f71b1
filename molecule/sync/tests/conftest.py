"""The `hosts` fixture of the sync scenario: a testinfra host per member."""
import pytest

from sync_nodes import CANDIDATES, CASCADED, PRIMARY


@pytest.fixture(scope="module")
def hosts(host):
    import testinfra
    inv = host.backend.ansible_inventory
    return {name: testinfra.get_host("ansible://%s" % name, ansible_inventory=inv)
            for name in [PRIMARY, CASCADED] + CANDIDATES}
