# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""opengauss_failover_choice: which standby opengauss_failover.yml promotes (documented in opengauss_failover_choice.yml)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.pgstream.replication.plugins.module_utils.lsn import format_lsn, parse_lsn


def _position(read):
    """(bytes, None) from one gsql result whose stdout is 'received|replayed' (either may be empty: NULL), or
    (None, why) when it says nothing usable."""
    if not isinstance(read, dict):
        return None, 'not read'
    if read.get('skipped'):
        return None, 'not read'
    if read.get('rc') not in (0, None) or read.get('failed'):
        lines = [ln for ln in (read.get('stderr') or read.get('msg') or '').splitlines() if ln.strip()]
        return None, 'gsql failed: %s' % (lines[-1].strip() if lines else 'rc=%s' % read.get('rc'))
    found = []
    for line in (read.get('stdout') or '').splitlines():
        for value in line.split('|'):
            value = value.strip()
            if not value:
                continue
            try:
                found.append(parse_lsn(value))
            except ValueError:
                return None, 'gsql printed %r, not WAL positions' % line.strip()
    if not found:
        return None, 'gsql printed no WAL position'
    return max(found), None


def opengauss_failover_choice(order, reads, named=None, force=False):
    """The standby to promote: the one with the most WAL (the greater of what it received and replayed), ties and
    standbys whose position is unknown in ``order`` (synchronous candidates by priority, then the others by name);
    a named one unless another has more WAL (then only with force). Unknown positions refuse without force."""
    if not isinstance(order, (list, tuple)) or not all(isinstance(h, str) for h in order):
        raise AnsibleFilterError('opengauss_failover_choice: the input must be the list of standby names, got %r' % (order,))
    if not isinstance(reads, dict):
        raise AnsibleFilterError('opengauss_failover_choice: reads must map each standby to its gsql result, got %r'
                                 % (reads,))
    try:
        force = boolean(force, strict=True)
    except TypeError:
        raise AnsibleFilterError('opengauss_failover_choice: force must be a boolean, got %r' % (force,))
    positions, unknown = {}, {}
    for host in order:
        positions[host], why = _position(reads.get(host))
        if why:
            unknown[host] = why
    result = dict(candidate=None, refused=None, positions=dict((h, format_lsn(p) if p is not None else None)
                                                               for h, p in positions.items()),
                  unknown=unknown)
    if not order:
        return result
    if unknown and not force:
        result['refused'] = ('the WAL position of %s could not be read (%s), so this run cannot tell which standby has '
                             'the most WAL. Run again with -e force=true to fail over without %s (with -e target=<standby> '
                             'to choose)' % (', '.join(unknown), '; '.join('%s: %s' % kv for kv in sorted(unknown.items())),
                                             'it' if len(unknown) == 1 else 'them'))
        return result
    known = [h for h in order if positions[h] is not None]
    best = max(known, key=lambda h: (positions[h], -order.index(h))) if known else None
    if named:
        result['candidate'] = named
        if named in order and best is not None and positions.get(named) is not None \
                and positions[best] > positions[named] and not force:
            result['refused'] = ('%s has less WAL than %s (%s against %s, %d bytes behind): promoting it would lose what '
                                 'only %s holds. Name %s, or run again with -e force=true to fail over to %s anyway'
                                 % (named, best, result['positions'][named], result['positions'][best],
                                    positions[best] - positions[named], best, best, named))
        return result
    result['candidate'] = best if best is not None else order[0]
    return result


class FilterModule(object):
    """pgstream.replication openGauss failover filter."""

    def filters(self):
        return {'opengauss_failover_choice': opengauss_failover_choice}
