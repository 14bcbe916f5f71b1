# -*- coding: utf-8 -*-
"""Print the bench's comparison table from results.jsonl (bench/run.sh writes one figure a line).

  python bench/table.py bench/results/<timestamp>/results.jsonl
"""
from __future__ import absolute_import, division, print_function

import json
import sys

__metaclass__ = type

# (op, metric, label), in the order printed
ROWS = [
    ('build_cluster', 'wall_time_s', 'build 3-node cluster, wall time (s)'),
    ('load', 'wall_time_s', 'pgbench -i load + standbys caught up (s)'),
    ('switchover', 'write_unavailability_s', 'switchover: write unavailability (s)'),
    ('switchover', 'wall_time_s', 'switchover: command wall time (s)'),
    ('switchover', 'lost_acked', 'switchover: lost acknowledged commits'),
    ('failover', 'write_unavailability_s', 'failover: write unavailability from kill (s)'),
    ('failover', 'wall_time_s', 'failover: command wall time (s)'),
    ('failover', 'lost_acked', 'failover: lost acknowledged commits'),
    ('rejoin_rewind', 'wall_time_s', 'rejoin with pg_rewind, wall time (s)'),
    ('rejoin_reclone', 'wall_time_s', 'rejoin by re-clone, wall time (s)'),
]


def load(lines):
    figures, notes = {}, {}
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        key = (rec.get('rig'), rec.get('op'), rec.get('metric'))
        figures[key] = rec.get('value')
        if rec.get('note'):
            notes[key] = rec['note']
    return figures, notes


def fmt(value):
    if value is None:
        return '-'
    if isinstance(value, float):
        return '%.3f' % value if abs(value) < 10 else '%.1f' % value
    return str(value)


def ratio(a, b):
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or b == 0:
        return '-'
    return '%.2f' % (a / b)


def render(figures, notes=None):
    notes = notes or {}
    out = []
    header = ('operation', 'pgstream', 'repmgr', 'ratio (pgstream/repmgr)')
    rows = []
    for op, metric, label in ROWS:
        a = figures.get(('pgstream', op, metric))
        b = figures.get(('repmgr', op, metric))
        if a is None and b is None:
            continue
        rows.append((label, fmt(a), fmt(b), ratio(a, b)))
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(4)]

    def line(r):
        return ' | '.join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))
    out.append(line(header))
    out.append('-+-'.join('-' * w for w in widths))
    out.extend(line(r) for r in rows)
    out.append('')
    for rig in ('pgstream', 'repmgr'):
        rw = figures.get((rig, 'rejoin_rewind', 'wall_time_s'))
        rc = figures.get((rig, 'rejoin_reclone', 'wall_time_s'))
        if rw is not None or rc is not None:
            out.append('%s: rewind %s s vs re-clone %s s, ratio rewind/re-clone %s' % (rig, fmt(rw), fmt(rc), ratio(rw, rc)))
    extra = sorted((k, v) for k, v in notes.items())
    if extra:
        out.append('')
        out.append('notes:')
        for (rig, op, metric), note in extra:
            out.append('  %s %s %s: %s' % (rig, op, metric, note))
    return '\n'.join(out)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1]) as f:
        figures, notes = load(f)
    print(render(figures, notes))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
