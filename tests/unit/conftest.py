"""Ansible's collection loader, pointed at build/collections (the checkout, as the Makefile links it), before any
test imports the collection: the playbooks' templates that tests render call the collection's own filters
(pgstream.replication.*), which Ansible finds only through this loader, and every test then imports the collection
the same way Ansible does (as ansible-test's unit runner sets it up)."""
import os

from ansible.utils.collection_loader import AnsibleCollectionConfig
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if AnsibleCollectionConfig.collection_finder is None:
    _AnsibleCollectionFinder(paths=[os.path.join(ROOT, 'build', 'collections')])._install()
