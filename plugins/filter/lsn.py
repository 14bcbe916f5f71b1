# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WAL positions (LSN) in templates: lsn_int and lsn_diff (documented in lsn_int.yml and lsn_diff.yml)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.pgstream.replication.plugins.module_utils.lsn import parse_lsn


def _parse(name, value):
    try:
        return parse_lsn(value)
    except ValueError as e:
        raise AnsibleFilterError('%s: %s' % (name, e))


def lsn_int(value):
    """'0/3000148' -> 50331976; None -> None."""
    if value is None:
        return None
    return _parse('lsn_int', value)


def lsn_diff(a, b):
    """a - b in bytes (negative when a is behind b); None when either is None."""
    if a is None or b is None:
        return None
    return _parse('lsn_diff', a) - _parse('lsn_diff', b)


class FilterModule(object):
    """pgstream.replication LSN filters."""

    def filters(self):
        return {'lsn_int': lsn_int, 'lsn_diff': lsn_diff}
