# -*- coding: utf-8 -*-
"""Writer probe: commit numbered rows through a multi-host connection, then check what survived.

Used on the controller by bench/ and by Molecule scenarios to measure what a switchover, a failover or
a rejoin costs a writing client:

  python tests/tools/writer_probe.py run --hosts pg1=10.0.0.2,pg2=10.0.0.3 --user U --password-file F \
      --out probe.jsonl [--table pgstream_probe] [--interval 0.01] [--stop-file PATH] [--duration S]
  python tests/tools/writer_probe.py report --out probe.jsonl --hosts ... --user U --password-file F \
      [--from T] [--to T] [--json]

`run` tries every host at once, one libpq connection per host with `target_session_attrs=read-write
connect_timeout=1`, each host again every 0.1 s on its own, and keeps the first connection that
succeeds (so a dead host's connect timeout does not delay finding the new primary: with one multi-host
conninfo, hosts were tried in turn and every retry waited the dead one out, about 1.1 s). It creates
the table if missing and commits rows id = 1, 2, 3 ... (synchronous_commit = on), one per transaction.
Every commit that returned OK is written to --out as one JSON line {id, t_send, t_ack, server}; an error is
written as {event: error, t, id, message}, the connection is opened again (every 0.1 s) and the next
id follows: the failed id is *unacknowledged* (it may or may not exist afterwards, and never counts
as lost). It stops on SIGTERM/SIGINT, when --stop-file appears, or after --duration seconds.

`report` reads the table on the current primary and computes: acked, lost_acked (acknowledged ids
missing on the primary), the longest gap between consecutive acknowledgements (and the gap around an
operation given by --from/--to), first/last acknowledgement and the servers seen in order.

A --hosts entry is an address or NAME=ADDRESS (the name is used in the output). The password is read
from --password-file (first line) or, without it, libpq's PGPASSFILE / ~/.pgpass; never from the
command line.
"""
from __future__ import absolute_import, division, print_function

import argparse
import datetime
import json
import os
import re
import signal
import sys
import threading
import time

__metaclass__ = type

IDENT_RE = re.compile(r'^[a-z_][a-z0-9_]{0,62}$')


# ----------------------------------------------------------------------------------------------
# Pure parts (unit-tested in tests/unit/test_writer_probe.py)
# ----------------------------------------------------------------------------------------------

def parse_hosts(spec):
    """'pg1=10.0.0.2,10.0.0.3' -> [('pg1', '10.0.0.2'), ('10.0.0.3', '10.0.0.3')]."""
    hosts = []
    for item in (spec or '').split(','):
        item = item.strip()
        if not item:
            continue
        if '=' in item:
            name, addr = item.split('=', 1)
            name, addr = name.strip(), addr.strip()
        else:
            name = addr = item
        if not name or not addr:
            raise ValueError('bad --hosts entry %r (ADDRESS or NAME=ADDRESS)' % item)
        hosts.append((name, addr))
    if not hosts:
        raise ValueError('--hosts is empty')
    return hosts


def conninfo_params(hosts, port, user, dbname, application_name='pgstream_writer_probe'):
    """Keyword parameters for psycopg2.connect (a libpq multi-host conninfo, no password)."""
    return {
        'host': ','.join(addr for _name, addr in hosts),
        'port': ','.join(str(port) for _h in hosts),
        'user': user,
        'dbname': dbname,
        'target_session_attrs': 'read-write',
        'connect_timeout': '1',
        'application_name': application_name,
        # A killed server sends no RST: notice a dead peer within seconds, not TCP's minutes.
        'keepalives': '1',
        'keepalives_idle': '1',
        'keepalives_interval': '1',
        'keepalives_count': '2',
        'tcp_user_timeout': '3000',
    }


def check_table_name(table):
    if not IDENT_RE.match(table or ''):
        raise ValueError('--table must be a plain lowercase identifier, got %r' % table)
    return table


def server_label(hosts, addr):
    """The --hosts name of a server address (inet_server_addr), else the address itself."""
    if addr is None:
        return None
    addr = str(addr).split('/', 1)[0]
    for name, a in hosts:
        if a == addr:
            return name
    return addr


def parse_time(value):
    """Epoch seconds ('1717000000.25') or ISO 8601 ('2024-05-29T16:26:40.25+00:00') -> float."""
    if value is None or value == '':
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except ValueError:
        pass
    text = value.strip().replace('Z', '+00:00')
    m = re.match(r'^(.*[T ]\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2}:?\d{2})?$', text)
    if not m:
        raise ValueError('cannot parse time %r (epoch seconds or ISO 8601)' % value)
    base = datetime.datetime.strptime(m.group(1).replace(' ', 'T'), '%Y-%m-%dT%H:%M:%S')
    frac = float(m.group(2)) if m.group(2) else 0.0
    offset = 0
    if m.group(3):
        tz = m.group(3).replace(':', '')
        offset = (1 if tz[0] == '+' else -1) * (int(tz[1:3]) * 3600 + int(tz[3:5]) * 60)
    else:
        # naive: local time
        return time.mktime(base.timetuple()) + frac
    epoch = (base - datetime.datetime(1970, 1, 1)).total_seconds()
    return epoch - offset + frac


def format_time(t):
    if t is None:
        return None
    return datetime.datetime.utcfromtimestamp(t).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'


def parse_lines(lines):
    """JSON lines of a run -> (acks sorted by t_ack, events). Bad or partial lines are skipped."""
    acks, events = [], []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a line cut by a kill
        if not isinstance(rec, dict):
            continue
        if 'event' in rec:
            events.append(rec)
        elif 'id' in rec and 't_ack' in rec:
            acks.append(rec)
    acks.sort(key=lambda r: (r['t_ack'], r['id']))
    return acks, events


def servers_in_order(acks):
    """The servers that acknowledged, consecutive repeats collapsed: ['pg1', 'pg2']."""
    seen = []
    for a in acks:
        s = a.get('server')
        if not seen or seen[-1] != s:
            seen.append(s)
    return seen


def longest_gap(acks, start=None, end=None):
    """Longest interval between consecutive acknowledgements.

    With start/end (an operation's window), only the intervals that overlap [start, end] count; the
    acknowledgements just before start and just after end bound them. When nothing was acknowledged
    after start, the gap is open: returned with 'open': True and measured up to the last event time
    given as `end` (or start).
    Returns {'gap_s', 'from', 'to', 'from_id', 'to_id', 'open'} or None when there is nothing to measure.
    """
    times = [(a['t_ack'], a['id']) for a in acks]
    best = None
    for (t0, id0), (t1, id1) in zip(times, times[1:]):
        if start is not None and t1 < start:
            continue
        if end is not None and t0 > end:
            continue
        gap = t1 - t0
        if best is None or gap > best['gap_s']:
            best = {'gap_s': gap, 'from': t0, 'to': t1, 'from_id': id0, 'to_id': id1, 'open': False}
    if start is not None:
        after = [t for t, _i in times if t >= start]
        if not after:
            before = [(t, i) for t, i in times if t < start]
            t0, id0 = before[-1] if before else (start, None)
            stop = end if end is not None else start
            best = {'gap_s': max(0.0, stop - t0), 'from': t0, 'to': None, 'from_id': id0, 'to_id': None,
                    'open': True}
    return best


def compute_report(acks, events, present_ids, start=None, end=None):
    """Everything `report` prints, from the run's lines and the ids found on the primary."""
    present = set(present_ids)
    acked_ids = [a['id'] for a in acks]
    lost = sorted(i for i in set(acked_ids) if i not in present)
    errors = [e for e in events if e.get('event') == 'error']
    unacked = sorted(set(e['id'] for e in errors if e.get('id') is not None) - set(acked_ids))
    latencies = sorted(a['t_ack'] - a['t_send'] for a in acks if 't_send' in a)
    rep = {
        'acked': len(acked_ids),
        'lost_acked': len(lost),
        'lost_acked_ids': lost[:50],
        'unacked': len(unacked),
        'unacked_present': len([i for i in unacked if i in present]),
        'errors': len(errors),
        'first_ack': acks[0]['t_ack'] if acks else None,
        'last_ack': acks[-1]['t_ack'] if acks else None,
        'servers': servers_in_order(acks),
        'max_gap': longest_gap(acks),
        'unavailability_s': None,
        'operation': None,
        'operation_unavailability_s': None,
        'commit_latency_ms': None,
    }
    if rep['max_gap']:
        rep['unavailability_s'] = round(rep['max_gap']['gap_s'], 3)
    if latencies:
        rep['commit_latency_ms'] = {
            'p50': round(1000 * latencies[len(latencies) // 2], 2),
            'p99': round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
            'max': round(1000 * latencies[-1], 2),
        }
    if start is not None or end is not None:
        op = longest_gap(acks, start, end)
        rep['operation'] = {'from': start, 'to': end, 'gap': op}
        if op:
            rep['operation_unavailability_s'] = round(op['gap_s'], 3)
    return rep


def human_line(rep):
    parts = ['acked=%d' % rep['acked'], 'lost_acked=%d' % rep['lost_acked'],
             'unacked=%d (present %d)' % (rep['unacked'], rep['unacked_present']),
             'errors=%d' % rep['errors']]
    if rep['unavailability_s'] is not None:
        g = rep['max_gap']
        parts.append('max_gap=%.3fs (ids %s->%s)' % (g['gap_s'], g['from_id'], g['to_id']))
    if rep['operation'] is not None:
        if rep['operation_unavailability_s'] is None:
            parts.append('operation_gap=n/a')
        else:
            still_open = ' (still open)' if rep['operation']['gap']['open'] else ''
            parts.append('operation_gap=%.3fs%s' % (rep['operation_unavailability_s'], still_open))
    parts.append('first=%s last=%s' % (format_time(rep['first_ack']), format_time(rep['last_ack'])))
    parts.append('servers=%s' % ' -> '.join(str(s) for s in rep['servers']))
    if rep['lost_acked_ids']:
        parts.append('lost_ids=%s' % ','.join(str(i) for i in rep['lost_acked_ids'][:10]))
    return ' '.join(parts)


# ----------------------------------------------------------------------------------------------
# Connections
# ----------------------------------------------------------------------------------------------

def read_password(path):
    if not path:
        return None
    with open(path) as f:
        return f.readline().rstrip('\r\n')


class NoServer(Exception):
    """No host accepted a read-write connection."""


def connect_first(addrs, attempt, retry_for=0.0, pause=0.1):
    """Call attempt(addr) for every address at once, each in its own thread, and return the first
    connection one of them returns; connections that arrive later are closed. A host whose attempt
    fails is tried again every `pause` seconds for `retry_for` seconds, independently of the others
    (so a standby that is promoted is found while a dead host is still timing out). Raises NoServer
    with each host's last error when none succeeds."""
    done = threading.Condition()
    state = {'winner': None, 'errors': {}, 'pending': len(addrs)}
    deadline = time.time() + retry_for

    def worker(addr):
        while True:
            conn, error = None, None
            try:
                conn = attempt(addr)
            except Exception as exc:  # pylint: disable=broad-except
                error = _short(exc)
            with done:
                if conn is not None and state['winner'] is None:
                    state['winner'], conn = conn, None
                if error:
                    state['errors'][addr] = error
                finished = state['winner'] is not None or time.time() + pause >= deadline
                if finished:
                    state['pending'] -= 1
                    done.notify_all()
            _close(conn)
            if finished:
                return
            time.sleep(pause)

    for addr in addrs:
        thread = threading.Thread(target=worker, args=(addr,))
        thread.daemon = True
        thread.start()
    with done:
        while state['winner'] is None and state['pending'] > 0:
            done.wait()
        if state['winner'] is None:
            raise NoServer('; '.join('%s: %s' % item for item in sorted(state['errors'].items())) or 'no host')
        return state['winner']


def connect(args, hosts, password, retry_for=0.0):
    import psycopg2  # pylint: disable=import-outside-toplevel

    def attempt(addr):
        params = conninfo_params([(addr, addr)], args.port, args.user, args.dbname)
        if password is not None:
            params['password'] = password
        conn = psycopg2.connect(**params)
        conn.autocommit = False
        return conn

    return connect_first([addr for _name, addr in hosts], attempt, retry_for=retry_for)


class Stopper:
    def __init__(self, stop_file=None, duration=None):
        self.stop_file = stop_file
        self.deadline = time.time() + duration if duration else None
        self.signalled = False

    def handler(self, _signum, _frame):
        self.signalled = True

    def stop(self):
        if self.signalled:
            return True
        if self.deadline is not None and time.time() >= self.deadline:
            return True
        return bool(self.stop_file) and os.path.exists(self.stop_file)

    def sleep(self, seconds):
        end = time.time() + seconds
        while not self.stop():
            left = end - time.time()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))


def _short(exc):
    return ' '.join(str(exc).split())[:300] or exc.__class__.__name__


def _close(conn):
    if conn is not None:
        try:
            conn.close()
        except Exception:  # pylint: disable=broad-except
            pass


def run(args):
    hosts = parse_hosts(args.hosts)
    table = check_table_name(args.table)
    password = read_password(args.password_file)
    stopper = Stopper(args.stop_file, args.duration)
    signal.signal(signal.SIGTERM, stopper.handler)
    signal.signal(signal.SIGINT, stopper.handler)

    out = open(args.out, 'a')

    def emit(rec):
        try:
            out.write(json.dumps(rec, sort_keys=True) + '\n')
            out.flush()
        except (IOError, OSError) as exc:
            sys.stderr.write('writer_probe: cannot write %s: %s\n' % (args.out, exc))

    conn = None
    next_id = None
    emit({'event': 'start', 't': time.time(), 'table': table, 'hosts': [n for n, _a in hosts]})
    while not stopper.stop():
        if conn is None:
            try:
                conn = connect(args, hosts, password, retry_for=2.0)
                cur = conn.cursor()
                cur.execute('SET synchronous_commit = on')
                cur.execute('CREATE TABLE IF NOT EXISTS %s (id bigint PRIMARY KEY, '
                            'at timestamptz DEFAULT clock_timestamp(), '
                            'host text DEFAULT inet_server_addr()::text)' % table)
                cur.execute('SELECT coalesce(max(id), 0) + 1, inet_server_addr()::text FROM %s' % table)
                first, addr = cur.fetchone()
                conn.commit()
                if next_id is None or first > next_id:
                    next_id = first
                emit({'event': 'connect', 't': time.time(), 'server': server_label(hosts, addr),
                      'next_id': next_id})
            except Exception as exc:  # pylint: disable=broad-except
                emit({'event': 'error', 't': time.time(), 'id': None, 'message': 'connect: ' + _short(exc)})
                _close(conn)
                conn = None
                stopper.sleep(0.1)
                continue
        this_id = next_id
        next_id += 1
        try:
            cur = conn.cursor()
            t_send = time.time()
            cur.execute('INSERT INTO %s (id) VALUES (%%s) RETURNING host' % table, (this_id,))
            addr = cur.fetchone()[0]
            conn.commit()
            t_ack = time.time()
            emit({'id': this_id, 't_send': round(t_send, 6), 't_ack': round(t_ack, 6),
                  'server': server_label(hosts, addr)})
        except Exception as exc:  # pylint: disable=broad-except
            emit({'event': 'error', 't': time.time(), 'id': this_id, 'message': _short(exc)})
            _close(conn)
            conn = None
            stopper.sleep(0.1)
            continue
        if args.interval > 0:
            stopper.sleep(args.interval)
    _close(conn)
    emit({'event': 'stop', 't': time.time(), 'next_id': next_id})
    out.close()
    return 0


def report(args):
    hosts = parse_hosts(args.hosts)
    table = check_table_name(args.table)
    with open(args.out) as f:
        acks, events = parse_lines(f)
    conn = connect(args, hosts, read_password(args.password_file))
    try:
        cur = conn.cursor()
        cur.execute('SELECT id FROM %s' % table)
        present = [r[0] for r in cur.fetchall()]
        cur.execute('SELECT inet_server_addr()::text')
        primary = server_label(hosts, cur.fetchone()[0])
        conn.rollback()
    finally:
        _close(conn)
    rep = compute_report(acks, events, present, parse_time(args.from_time), parse_time(args.to_time))
    rep['primary'] = primary
    rep['rows_on_primary'] = len(present)
    print(human_line(rep) + ' primary=%s' % primary)
    if args.json:
        print(json.dumps(rep, sort_keys=True))
    return 1 if args.fail_on_loss and rep['lost_acked'] else 0


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0], allow_abbrev=False)
    sub = p.add_subparsers(dest='command')

    def common(sp):
        sp.add_argument('--hosts', required=True, help='ADDRESS or NAME=ADDRESS, comma-separated')
        sp.add_argument('--port', type=int, default=5432)
        sp.add_argument('--user', required=True)
        sp.add_argument('--password-file', help='file whose first line is the password (else PGPASSFILE)')
        sp.add_argument('--dbname', default='postgres')
        sp.add_argument('--table', default='pgstream_probe')
        sp.add_argument('--out', required=True, help='JSON lines file of the run')

    # allow_abbrev=False: `--password x` must not be taken for --password-file.
    r = sub.add_parser('run', help='commit numbered rows until stopped', allow_abbrev=False)
    common(r)
    r.add_argument('--interval', type=float, default=0.01, help='pause between commits (s)')
    r.add_argument('--stop-file', help='stop when this file appears')
    r.add_argument('--duration', type=float, help='stop after this many seconds')

    s = sub.add_parser('report', help='compare the run with the table on the primary', allow_abbrev=False)
    common(s)
    s.add_argument('--from', dest='from_time', help='operation start (epoch seconds or ISO 8601)')
    s.add_argument('--to', dest='to_time', help='operation end (epoch seconds or ISO 8601)')
    s.add_argument('--json', action='store_true', help='also print the report as one JSON object')
    s.add_argument('--fail-on-loss', action='store_true', help='exit 1 when an acknowledged commit is lost')
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        if args.command == 'run':
            return run(args)
        if args.command == 'report':
            return report(args)
    except (ValueError, IOError, OSError) as exc:
        sys.stderr.write('writer_probe: %s\n' % exc)
        return 2
    except Exception as exc:  # pylint: disable=broad-except
        # report: no primary reachable, table missing ... (run never gets here on a lost connection)
        sys.stderr.write('writer_probe: %s: %s\n' % (args.command, _short(exc)))
        return 3
    build_parser().print_help()
    return 2


if __name__ == '__main__':
    sys.exit(main())
