"""Pure parts of tests/tools/writer_probe.py: host lists, conninfo, time parsing, the report figures."""
import importlib.util
import json
import os
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location('writer_probe', os.path.join(ROOT, 'tests', 'tools', 'writer_probe.py'))
wp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wp)


def ack(i, t, server='pg1', latency=0.002):
    return {'id': i, 't_send': t - latency, 't_ack': t, 'server': server}


@pytest.mark.parametrize('spec, expected', [
    ('10.0.0.2', [('10.0.0.2', '10.0.0.2')]),
    ('pg1=10.0.0.2, pg2=10.0.0.3,,', [('pg1', '10.0.0.2'), ('pg2', '10.0.0.3')]),
    ('pg1=10.0.0.2,10.0.0.4', [('pg1', '10.0.0.2'), ('10.0.0.4', '10.0.0.4')]),
])
def test_parse_hosts(spec, expected):
    assert wp.parse_hosts(spec) == expected


@pytest.mark.parametrize('spec', ['', ',', 'pg1=', '=10.0.0.2'])
def test_parse_hosts_rejects(spec):
    with pytest.raises(ValueError):
        wp.parse_hosts(spec)


class FakeConn:
    def __init__(self, name):
        self.name = name
        self.closed = False

    def close(self):
        self.closed = True


def test_connect_first_does_not_wait_for_a_dead_host():
    dead_released, dead_gave_up = threading.Event(), threading.Event()
    attempted = []

    def attempt(addr):
        attempted.append(addr)
        if addr == 'dead':  # a host that never answers until the test lets it time out
            dead_released.wait(10)
            dead_gave_up.set()
            raise OSError('timeout expired')
        if addr == 'standby':
            raise OSError('session is read-only')
        return FakeConn(addr)

    conn = wp.connect_first(['dead', 'standby', 'primary'], attempt)
    assert conn.name == 'primary'
    assert not dead_gave_up.is_set()  # returned while the dead host was still being waited for
    dead_released.set()
    assert sorted(attempted) == ['dead', 'primary', 'standby']


def test_connect_first_finds_a_promoted_standby_while_a_dead_host_times_out():
    dead_released, dead_gave_up = threading.Event(), threading.Event()
    tries = []

    def attempt(addr):
        if addr == 'dead':
            dead_released.wait(10)
            dead_gave_up.set()
            raise OSError('timeout expired')
        tries.append(addr)
        if len(tries) < 3:  # read-only twice, then promoted
            raise OSError('session is read-only')
        return FakeConn(addr)

    conn = wp.connect_first(['dead', 'standby'], attempt, retry_for=30, pause=0.01)
    assert conn.name == 'standby' and len(tries) == 3
    assert not dead_gave_up.is_set()
    dead_released.set()


def test_connect_first_closes_a_second_read_write_connection():
    conns = {}
    second = threading.Event()

    def attempt(addr):
        if addr == 'b':
            second.wait(10)
        conns[addr] = FakeConn(addr)
        return conns[addr]

    conn = wp.connect_first(['a', 'b'], attempt)
    assert conn.name == 'a' and not conn.closed
    second.set()
    for _i in range(500):  # wait (up to 5 s) for b's thread to hand its connection back
        if 'b' in conns and conns['b'].closed:
            break
        time.sleep(0.01)
    assert conns['b'].closed


def test_connect_first_reports_every_host_when_none_answers():
    def attempt(addr):
        raise OSError('%s refused' % addr)

    with pytest.raises(wp.NoServer) as err:
        wp.connect_first(['x', 'y'], attempt)
    assert str(err.value) == 'x: x refused; y: y refused'  # one attempt each without retry_for


def test_conninfo_is_multi_host_read_write_without_password():
    params = wp.conninfo_params([('pg1', 'a'), ('pg2', 'b'), ('pg3', 'c')], 5433, 'probe', 'postgres')
    assert params['host'] == 'a,b,c'
    assert params['port'] == '5433,5433,5433'
    assert params['target_session_attrs'] == 'read-write'
    assert params['connect_timeout'] == '1'
    assert 'password' not in params


@pytest.mark.parametrize('table', ['pgstream_probe', 'probe_2', '_x'])
def test_table_name_ok(table):
    assert wp.check_table_name(table) == table


@pytest.mark.parametrize('table', ['', 'Probe', 'a;drop table x', 'a.b', '1abc', 'x' * 64])
def test_table_name_refused(table):
    with pytest.raises(ValueError):
        wp.check_table_name(table)


def test_server_label():
    hosts = [('pg1', '10.0.0.2'), ('pg2', '10.0.0.3')]
    assert wp.server_label(hosts, '10.0.0.3') == 'pg2'
    assert wp.server_label(hosts, '10.0.0.3/32') == 'pg2'
    assert wp.server_label(hosts, '10.0.0.9') == '10.0.0.9'
    assert wp.server_label(hosts, None) is None


@pytest.mark.parametrize('text, expected', [
    ('1717000000.25', 1717000000.25),
    (1717000000, 1717000000.0),
    ('2024-05-29T16:26:40.25+00:00', 1717000000.25),
    ('2024-05-29T16:26:40Z', 1717000000.0),
    ('2024-05-29T18:26:40+02:00', 1717000000.0),
    ('2024-05-29 16:26:40.5+0000', 1717000000.5),
    (None, None),
])
def test_parse_time(text, expected):
    assert wp.parse_time(text) == pytest.approx(expected)


def test_parse_time_refuses_garbage():
    with pytest.raises(ValueError):
        wp.parse_time('yesterday')


def test_parse_lines_sorts_acks_and_skips_cut_lines():
    lines = [
        json.dumps({'event': 'start', 't': 1.0}),
        json.dumps(ack(2, 12.0)),
        json.dumps(ack(1, 11.0)),
        json.dumps({'event': 'error', 't': 12.5, 'id': 3, 'message': 'server closed the connection'}),
        '',
        '{"id": 4, "t_se',  # the writer was killed mid-line
        '[1, 2]',
    ]
    acks, events = wp.parse_lines(lines)
    assert [a['id'] for a in acks] == [1, 2]
    assert [e['event'] for e in events] == ['start', 'error']


def test_servers_in_order_collapses_repeats():
    acks = [ack(1, 1, 'pg1'), ack(2, 2, 'pg1'), ack(3, 3, 'pg2'), ack(4, 4, 'pg2'), ack(5, 5, 'pg1')]
    assert wp.servers_in_order(acks) == ['pg1', 'pg2', 'pg1']
    assert wp.servers_in_order([]) == []


def test_longest_gap_whole_run():
    acks = [ack(1, 10.0), ack(2, 10.1), ack(4, 12.6), ack(5, 12.7)]
    gap = wp.longest_gap(acks)
    assert gap['gap_s'] == pytest.approx(2.5)
    assert (gap['from_id'], gap['to_id'], gap['open']) == (2, 4, False)
    assert wp.longest_gap([ack(1, 1.0)]) is None
    assert wp.longest_gap([]) is None


def test_longest_gap_around_operation_ignores_earlier_hiccup():
    # a 3 s stall long before the operation, then a 1.5 s gap during it
    acks = [ack(1, 0.0), ack(2, 3.0), ack(3, 3.1), ack(4, 10.0), ack(5, 11.5), ack(6, 11.6), ack(7, 20.0)]
    assert wp.longest_gap(acks)['gap_s'] == pytest.approx(8.4)
    op = wp.longest_gap(acks, start=10.2, end=11.55)
    assert op['gap_s'] == pytest.approx(1.5)
    assert (op['from_id'], op['to_id']) == (4, 5)


def test_longest_gap_operation_bounded_by_acks_outside_window():
    # nothing acknowledged inside [start, end]: the gap runs from the last ack before to the first after
    acks = [ack(1, 1.0), ack(2, 1.1), ack(3, 6.0), ack(4, 6.1)]
    op = wp.longest_gap(acks, start=2.0, end=5.0)
    assert op['gap_s'] == pytest.approx(4.9)
    assert (op['from_id'], op['to_id']) == (2, 3)


def test_longest_gap_open_when_nothing_acked_after_start():
    acks = [ack(1, 1.0), ack(2, 1.1)]
    op = wp.longest_gap(acks, start=2.0, end=9.0)
    assert op['open'] is True
    assert op['gap_s'] == pytest.approx(7.9)
    assert op['from_id'] == 2 and op['to_id'] is None


def test_compute_report_switchover_without_loss():
    acks = [ack(1, 1.0, 'pg1'), ack(2, 1.01, 'pg1'), ack(4, 3.0, 'pg2'), ack(5, 3.01, 'pg2')]
    events = [{'event': 'error', 't': 1.5, 'id': 3, 'message': 'terminating connection'},
              {'event': 'error', 't': 1.7, 'id': None, 'message': 'connect: refused'}]
    rep = wp.compute_report(acks, events, [1, 2, 3, 4, 5], start=1.2, end=2.9)
    assert rep['acked'] == 4
    assert rep['lost_acked'] == 0 and rep['lost_acked_ids'] == []
    assert rep['unacked'] == 1 and rep['unacked_present'] == 1
    assert rep['errors'] == 2
    assert rep['servers'] == ['pg1', 'pg2']
    assert rep['unavailability_s'] == pytest.approx(1.99)
    assert rep['operation_unavailability_s'] == pytest.approx(1.99)
    assert rep['first_ack'] == 1.0 and rep['last_ack'] == 3.01
    assert rep['commit_latency_ms']['p50'] == pytest.approx(2.0)
    line = wp.human_line(rep)
    assert 'lost_acked=0' in line and 'servers=pg1 -> pg2' in line and 'operation_gap=1.990s' in line


def test_compute_report_counts_lost_acks_only():
    # failover: ids 2 and 3 were acknowledged by the dead primary and never reached the new one;
    # id 4 failed (unacknowledged) and is absent: not lost.
    acks = [ack(1, 1.0, 'pg1'), ack(2, 1.1, 'pg1'), ack(3, 1.2, 'pg1'), ack(5, 9.0, 'pg2')]
    events = [{'event': 'error', 't': 4.0, 'id': 4, 'message': 'timeout'}]
    rep = wp.compute_report(acks, events, [1, 5])
    assert rep['lost_acked'] == 2 and rep['lost_acked_ids'] == [2, 3]
    assert rep['unacked'] == 1 and rep['unacked_present'] == 0
    assert rep['operation'] is None and rep['operation_unavailability_s'] is None
    assert 'lost_ids=2,3' in wp.human_line(rep)


def test_compute_report_empty_run():
    rep = wp.compute_report([], [], [])
    assert rep['acked'] == 0 and rep['unavailability_s'] is None and rep['servers'] == []
    assert 'acked=0' in wp.human_line(rep)


def test_cli_requires_password_from_file_not_argv():
    parser = wp.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(['run', '--hosts', 'a', '--user', 'u', '--out', 'x', '--password', 'secret'])
