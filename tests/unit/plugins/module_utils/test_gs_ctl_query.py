# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for module_utils/gs_ctl_query.py.

The fixtures in tests/unit/fixtures/gs_ctl/ are real published gs_ctl outputs (see SOURCES.md).
Inputs written inside this file are either garbage or are built from the openGauss source's
format strings / by changing one value of a real fixture; each says which.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils.gs_ctl_query import (
    parse_channel,
    parse_query,
    summary,
)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'gs_ctl')

SENDER_KEYS = [
    'sender_pid', 'local_role', 'peer_role', 'peer_state', 'state',
    'sender_sent_location', 'sender_write_location', 'sender_flush_location', 'sender_replay_location',
    'receiver_received_location', 'receiver_write_location', 'receiver_flush_location', 'receiver_replay_location',
    'sync_percent', 'sync_state', 'sync_priority', 'sync_most_available', 'channel',
]
RECEIVER_KEYS = [
    'receiver_pid', 'local_role', 'peer_role', 'peer_state', 'state',
    'sender_sent_location', 'sender_write_location', 'sender_flush_location', 'sender_replay_location',
    'receiver_received_location', 'receiver_write_location', 'receiver_flush_location', 'receiver_replay_location',
    'sync_percent', 'channel',
]
HA_KEYS = ['local_role', 'static_connections', 'db_state', 'detail_information']
RESULT_KEYS = {'ha_state', 'senders', 'receiver', 'build_state', 'other_sections', 'no_information',
               'log_lines', 'unparsed', 'warnings'}


def read(name):
    with open(os.path.join(FIXTURES, name), 'rb') as handle:
        return handle.read().decode('utf-8')


# fixture -> what parse_query()/summary() must find in it
CASES = [
    ('og1.0_primary_two_senders_oldlog.txt', dict(
        role='primary', local_role='Primary', db_state='Normal', detail='Normal', static=2,
        sync_states=['Sync', 'Potential'], sender_states=['Streaming', 'Streaming'], receiver=None,
        no_information=['receiver'], peers=['192.168.1.3', '192.168.1.1'], logs=1)),
    ('og1.0_standby_need_repair_connecting_oldlog.txt', dict(
        role='standby', local_role='Standby', db_state='Need repair', detail='Connecting...', static=2,
        sync_states=[], sender_states=[], receiver=None, no_information=['senders', 'receiver'], peers=[], logs=1)),
    ('og1.0_primary_one_sender_after_failover_oldlog.txt', dict(
        role='primary', local_role='Primary', db_state='Normal', detail='Normal', static=2,
        sync_states=['Sync'], sender_states=['Streaming'], receiver=None, no_information=['receiver'],
        peers=['192.168.1.2'], logs=1)),
    ('og1.0.1_standby_catchup.txt', dict(
        role='standby', local_role='Standby', db_state='Catchup', detail='Normal', static=2,
        sync_states=[], sender_states=[], no_information=['senders'], peers=[], logs=1,
        receiver={'state': 'Catchup', 'peer_role': 'Primary', 'sync_percent': '97%',
                  'receiver_replay_location': '3A/8F4A9910', 'channel': '192.168.1.2:48458<--192.168.1.1:5533'})),
    ('og1.1_primary_no_standby.txt', dict(
        role='primary', local_role='Primary', db_state='Normal', detail='Normal', static=0,
        sync_states=[], sender_states=[], receiver=None, no_information=['senders', 'receiver'], peers=[], logs=1)),
    ('og1.1_standby_need_repair_disconnected.txt', dict(
        role='standby', local_role='Standby', db_state='Need repair', detail='Disconnected', static=0,
        sync_states=[], sender_states=[], receiver=None, no_information=['senders', 'receiver'], peers=[], logs=1)),
    ('og3.0_primary_one_sender.txt', dict(
        role='primary', local_role='Primary', db_state='Normal', detail='Normal', static=1,
        sync_states=['Sync'], sender_states=['Streaming'], receiver=None, no_information=['receiver'],
        peers=['10.0.0.101'], logs=1)),
    ('og3.0_standby_receiver.txt', dict(
        role='standby', local_role='Standby', db_state='Normal', detail='Normal', static=1,
        sync_states=[], sender_states=[], no_information=['senders'], peers=[], logs=1,
        receiver={'receiver_pid': '8465', 'state': 'Normal', 'peer_role': 'Primary', 'peer_state': 'Normal',
                  'channel': '10.0.0.101:51926<--10.0.0.100:26001'})),
    ('og_primary_quorum.txt', dict(
        role='primary', local_role='Primary', db_state='Normal', detail='Normal', static=1,
        sync_states=['Quorum'], sender_states=['Streaming'], receiver=None, no_information=['receiver'],
        peers=['192.168.56.228'], logs=1)),
    ('mogdb_primary_two_senders_sync_potential.txt', dict(
        role='primary', local_role='Primary', db_state='Normal', detail='Normal', static=2,
        sync_states=['Sync', 'Potential'], sender_states=['Streaming', 'Streaming'], receiver=None,
        no_information=['receiver'], peers=['172.18.0.103', '172.18.0.102'], logs=1)),
    ('mogdb_standby_cascade_sender_and_receiver.txt', dict(
        role='standby', local_role='Standby', db_state='Normal', detail='Normal', static=2,
        sync_states=['Async'], sender_states=['Streaming'], no_information=[], peers=['172.16.0.127'], logs=1,
        receiver={'peer_role': 'Primary', 'state': 'Normal', 'channel': '172.16.0.245:34586<--172.16.0.106:26001'})),
    ('mogdb_cascade_standby.txt', dict(
        role='cascade_standby', local_role='Cascade Standby', db_state='Normal', detail='Normal', static=2,
        sync_states=[], sender_states=[], no_information=['senders'], peers=[], logs=1,
        receiver={'local_role': 'Cascade Standby', 'peer_role': 'Standby', 'state': 'Normal'})),
    ('docs_primary_one_sender.txt', dict(
        role='primary', local_role='Primary', db_state='Normal', detail='Normal', static=1,
        sync_states=['Sync'], sender_states=['Streaming'], receiver=None, no_information=['receiver'],
        peers=['10.244.44.52'], logs=1)),
    ('docs_dorado_primary_standbycluster_peer.txt', dict(
        role='primary', local_role='Primary', db_state='Normal', detail='Normal', static=2,
        sync_states=['Async'], sender_states=['Streaming'], receiver=None, no_information=['receiver'],
        peers=['20.0.0.10'], logs=1)),
    ('docs_dorado_main_standby.txt', dict(
        role='standby', local_role='Main Standby', db_state='Normal', detail='Normal', static=2,
        sync_states=[], sender_states=[], no_information=['senders'], peers=[], logs=1,
        receiver={'local_role': 'Standby', 'state': 'Normal', 'channel': '20.0.0.10:43350<--10.0.0.10:25400'})),
]
CASE_IDS = [case[0] for case in CASES]


def test_every_fixture_has_a_case_and_a_source():
    names = sorted(n for n in os.listdir(FIXTURES) if n.endswith('.txt'))
    assert names == sorted(CASE_IDS)
    sources = read('SOURCES.md')
    for name in names:
        assert '`%s`' % name in sources


@pytest.mark.parametrize('name,expected', CASES, ids=CASE_IDS)
def test_real_outputs(name, expected):
    parsed = parse_query(read(name))
    assert parsed['warnings'] == []
    assert parsed['unparsed'] == []
    assert len(parsed['log_lines']) == expected['logs']
    assert sorted(parsed['no_information']) == sorted(expected['no_information'])
    assert list(parsed['ha_state'])[:4] == HA_KEYS
    assert [row['sync_state'] for row in parsed['senders']] == expected['sync_states']
    assert [row['state'] for row in parsed['senders']] == expected['sender_states']
    for row in parsed['senders']:
        assert list(row) == SENDER_KEYS
        assert row['sender_pid'].isdigit()
        assert row['sync_percent'].endswith('%')
        assert '-->' in row['channel']
    if expected['receiver'] is None:
        assert parsed['receiver'] is None
    else:
        assert list(parsed['receiver']) == RECEIVER_KEYS
        for key, value in expected['receiver'].items():
            assert parsed['receiver'][key] == value

    short = summary(parsed)
    assert short['role'] == expected['role']
    assert short['local_role'] == expected['local_role']
    assert short['db_state'] == expected['db_state']
    assert short['detail_information'] == expected['detail']
    assert short['static_connections'] == expected['static']
    assert [peer['peer_host'] for peer in short['streaming_peers']] == expected['peers']
    assert short['sender_count'] == len(expected['sync_states'])
    assert (short['upstream'] is None) == (expected['receiver'] is None)
    assert short['warnings'] == []


def test_locations_stay_strings():
    sender = parse_query(read('og1.0_primary_two_senders_oldlog.txt'))['senders'][0]
    assert sender['sender_pid'] == '55270'
    assert sender['sender_sent_location'] == '0/1002E430'
    assert sender['receiver_replay_location'] == '0/1002E430'
    assert sender['sync_priority'] == '1'
    assert sender['sync_most_available'] == 'Off'
    assert sender['channel'] == '192.168.1.2:5433-->192.168.1.3:56956'


def test_rows_without_blank_lines_are_split_on_sender_pid():
    # The 2020 blog lost exe_sql()'s blank line between rows: sender_pid must still start a row.
    senders = parse_query(read('og1.0_primary_two_senders_oldlog.txt'))['senders']
    assert [s['sender_pid'] for s in senders] == ['55270', '4589']


def test_summary_upstream_of_a_standby():
    short = summary(parse_query(read('og3.0_standby_receiver.txt')))
    assert short['upstream']['host'] == '10.0.0.100'
    assert short['upstream']['port'] == 26001
    assert short['upstream']['state'] == 'Normal'
    assert short['streaming_peers'] == []


@pytest.mark.parametrize('name', CASE_IDS)
def test_crlf_and_lf_give_the_same_result(name):
    text = read(name)
    lf = text.replace('\r\n', '\n')
    assert parse_query(lf) == parse_query(lf.replace('\n', '\r\n'))


def test_crlf_as_published():
    # og1.0.1_standby_catchup.txt was published with CRLF line endings (stored as LF, see SOURCES.md).
    parsed = parse_query(read('og1.0.1_standby_catchup.txt').replace('\n', '\r\n'))
    assert parsed['warnings'] == []
    assert parsed['receiver']['channel'] == '192.168.1.2:48458<--192.168.1.1:5533'
    assert parsed['ha_state']['db_state'] == 'Catchup'


def test_log_lines_mixed_in():
    # A real output (og3.0_primary_one_sender.txt) with more gs_ctl log lines inserted, in both
    # prefix styles seen in the field: insertion is the only change.
    lines = read('og3.0_primary_one_sender.txt').split('\n')
    lines.insert(1, '[2020-06-30 09:54:41.744][178541][][gs_ctl]: gs_ctl query ,datadir is /opt/og/data')
    lines.insert(8, '2020-07-25 10:13:04  38232 gs_ctl: Getting state from gaussdb.state!')
    lines.insert(12, '[2020-06-30 09:54:41.745][178541][dn_6001][gs_ctl]: could not connect')
    parsed = parse_query('\n'.join(lines))
    assert parsed['warnings'] == []
    assert len(parsed['log_lines']) == 4
    assert parsed['ha_state']['local_role'] == 'Primary'
    assert len(parsed['senders']) == 1
    assert list(parsed['senders'][0]) == SENDER_KEYS


def test_exe_sql_failure_is_a_warning():
    # exe_sql() (streamutil.cpp) logs "exc_sql failed." with pg_log(PG_WARNING) when a query fails.
    text = ('[2023-01-01 00:00:00.000][1][][gs_ctl]: gs_ctl query ,datadir is /d\n'
            ' HA state:           \n'
            '[2023-01-01 00:00:00.001][1][][gs_ctl]: exc_sql failed.\n'
            ' Senders info:       \n'
            'No information \n'
            ' Receiver info:      \n'
            'No information \n')
    parsed = parse_query(text)
    assert parsed['ha_state'] is None
    assert any('exc_sql failed' in w for w in parsed['warnings'])
    assert any("no ' HA state:' block" in w for w in parsed['warnings'])
    assert any("'ha_state' is empty" in w for w in parsed['warnings'])


# Values replaced in a real fixture: (fixture, old text, new text, expected warning, summary role)
SUBSTITUTIONS = [
    ('og1.1_standby_need_repair_disconnected.txt', 'local_role                     : Standby',
     'local_role                     : Pending', None, 'pending'),
    ('og1.1_primary_no_standby.txt', ': Primary', ': Leader', "unknown ha_state.local_role value 'Leader'", 'unknown'),
    ('og1.1_primary_no_standby.txt', 'db_state                       : Normal',
     'db_state                       : Building', None, 'primary'),
    ('og1.1_primary_no_standby.txt', 'db_state                       : Normal',
     'db_state                       : Rebuilding', "unknown ha_state.db_state value 'Rebuilding'", 'primary'),
    ('og1.1_standby_need_repair_disconnected.txt', ': Disconnected', ': Lost',
     "unknown ha_state.detail_information value 'Lost'", 'standby'),
    ('og3.0_primary_one_sender.txt', ': Streaming', ': Flying', "unknown senders.state value 'Flying'", 'primary'),
    ('og3.0_primary_one_sender.txt', ': Sync\n', ': Semi\n', "unknown senders.sync_state value 'Semi'", 'primary'),
    ('og3.0_primary_one_sender.txt', 'sync_most_available            : Off',
     'sync_most_available            : Maybe', "unknown senders.sync_most_available value 'Maybe'", 'primary'),
    ('og3.0_standby_receiver.txt', 'peer_role                      : Primary',
     'peer_role                      : Leader', "unknown receiver.peer_role value 'Leader'", 'standby'),
]


@pytest.mark.parametrize('name,old,new,warning,role', SUBSTITUTIONS)
def test_values_outside_the_source_enums(name, old, new, warning, role):
    text = read(name)
    assert old in text
    parsed = parse_query(text.replace(old, new, 1))
    if warning is None:
        assert parsed['warnings'] == []
    else:
        assert warning in parsed['warnings']
    rows = [parsed['ha_state'], parsed['receiver']] + parsed['senders']
    assert new.split(': ')[-1].strip() in [value for row in rows if row for value in row.values()]
    assert summary(parsed)['role'] == role


def test_unknown_keys_are_kept():
    # A real output with one extra column appended to the sender row (as a newer server might add).
    text = read('og3.0_primary_one_sender.txt').replace(
        '-->10.0.0.101:51926\n', '-->10.0.0.101:51926\n\tcatchup_start                  : 2022-06-28 12:40:00\n')
    parsed = parse_query(text)
    assert parsed['warnings'] == []
    assert parsed['senders'][0]['catchup_start'] == '2022-06-28 12:40:00'


def test_display_query_fallback_layout():
    # Built from pg_ctl.cpp display_query()'s format strings ("        %-30s: %s\n", then "\n",
    # " Senders info:\n", "        No information\n", ...), printed when gs_ctl cannot connect.
    fmt = '        %-30s: %s\n'
    text = (' HA state:\n'
            + fmt % ('local_role', 'Standby') + fmt % ('static_connections', 1)
            + fmt % ('db_state', 'Starting')
            + fmt % ('detail_information', 'FATAL:  the database system is starting up')
            + fmt % ('sync_mode', 'Async')
            + '\n Senders info:\n        No information\n Receiver info:\n        No information\n')
    parsed = parse_query(text)
    assert parsed['warnings'] == []
    assert parsed['ha_state'] == {
        'local_role': 'Standby', 'static_connections': '1', 'db_state': 'Starting',
        'detail_information': 'FATAL:  the database system is starting up', 'sync_mode': 'Async'}
    assert sorted(parsed['no_information']) == ['receiver', 'senders']


def test_querybuild_layout():
    # Built from pg_ctl.cpp display_build_query()'s format strings (gs_ctl querybuild while building).
    fmt = '        %-30s: %s\n'
    text = (' HA state:\n'
            + fmt % ('local_role', 'Standby') + fmt % ('static_connections', 1)
            + fmt % ('db_state', 'Building') + fmt % ('sync_mode', 'Async')
            + ' Build state:\n'
            + fmt % ('build_mode', 'Full') + fmt % ('data_synchronized', '1024MB')
            + fmt % ('estimated_total_data', '2048MB') + fmt % ('process_schedule', '50%')
            + fmt % ('estimated_remaining_time', '00:00:10') + '\n')
    parsed = parse_query(text)
    assert parsed['warnings'] == []
    assert parsed['ha_state']['db_state'] == 'Building'
    assert parsed['build_state']['process_schedule'] == '50%'
    assert summary(parsed)['role'] == 'standby'


def test_duplicate_sections_are_reported():
    text = read('og3.0_primary_one_sender.txt') + read('og3.0_standby_receiver.txt')
    parsed = parse_query(text)
    assert parsed['ha_state']['local_role'] == 'Primary'
    assert any('appears more than once' in w for w in parsed['warnings'])


GARBAGE = [
    '',
    '   \n\t\n',
    None,
    b'\xff\xfe binary \x00 junk',
    12345,
    'Is server running?',
    '[2024-01-01 00:00:00.000][1][][gs_ctl]:  PID file "/d/postmaster.pid" does not exist\n'
    '[2024-01-01 00:00:00.000][1][][gs_ctl]: Is server running?\n',
    'local_role : Primary\n',
    ' HA state:\n',
    'No information\n',
    ' Senders info:\nNo information\n\tsender_pid : 1\n',
    'http://example.com:8080/path\nfoo: bar: baz\n::::\n' + 'x' * 100000,
    '\u4e3b\u5907\uff1a\u72b6\u6001\n HA state:\n\tlocal_role : \u4e3b\n',
    '\r\r\n\r',
    ' HA state:\n\tlocal_role : Primary\n\tlocal_role : Standby\n',
]


@pytest.mark.parametrize('text', GARBAGE)
def test_garbage_never_raises_and_warns(text):
    parsed = parse_query(text)
    assert set(parsed) == RESULT_KEYS
    assert isinstance(parsed['senders'], list)
    assert parsed['warnings']
    short = summary(parsed)
    assert short['role'] in ('primary', 'standby', 'pending', 'cascade_standby', 'unknown')
    assert short['warnings'] == parsed['warnings']


@pytest.mark.parametrize('value', [None, {}, [], 'text', {'ha_state': 'x', 'senders': None}])
def test_summary_of_nonsense(value):
    short = summary(value)
    assert short['role'] == 'unknown'
    assert short['streaming_peers'] == []


@pytest.mark.parametrize('channel,expected', [
    ('192.168.1.2:5433-->192.168.1.3:56956',
     {'direction': 'out', 'local_host': '192.168.1.2', 'local_port': 5433,
      'remote_host': '192.168.1.3', 'remote_port': 56956}),
    ('10.0.0.101:51926<--10.0.0.100:26001',
     {'direction': 'in', 'local_host': '10.0.0.101', 'local_port': 51926,
      'remote_host': '10.0.0.100', 'remote_port': 26001}),
    ('', None),
    (None, None),
    ('10.0.0.1-->10.0.0.2', None),
    ('a:b-->c:d', None),
])
def test_parse_channel(channel, expected):
    assert parse_channel(channel) == expected
