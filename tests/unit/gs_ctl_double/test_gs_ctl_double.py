# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the pure parts of the gs_ctl test double (tests/gs_ctl_double/gs_ctl).

No server is started: argument parsing, exit codes on bad usage and without a server, replconninfo
and configuration parsing, and the formatting of the query blocks. The query outputs the double
prints must parse with plugins/module_utils/gs_ctl_query.py without any warning.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fcntl
import io
import os
import re
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils.gs_ctl_query import (
    parse_channel,
    parse_query,
    summary,
)

HERE = os.path.dirname(os.path.abspath(__file__))
DOUBLE = os.path.join(HERE, '..', '..', 'gs_ctl_double', 'gs_ctl')
FIXTURES = os.path.join(HERE, '..', 'fixtures', 'gs_ctl')
PREFIX = re.compile(r'^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\]\[\d+\]\[\]\[gs_ctl\]: ')


def _load():
    loader = SourceFileLoader('gs_ctl_double', DOUBLE)
    spec = spec_from_loader('gs_ctl_double', loader)
    module = module_from_spec(spec)
    loader.exec_module(module)
    return module


gsd = _load()


def make_out():
    return gsd.Out(stream=io.StringIO(), pid=4242, clock=lambda: 1656391344.316)


def run(argv, environ=None):
    out = make_out()
    code = gsd.run(argv, out=out, environ=environ if environ is not None else {})
    return code, out.stream.getvalue()


@pytest.fixture(autouse=True)
def not_root(monkeypatch):
    monkeypatch.setattr(gsd.os, 'geteuid', lambda: 1000)


# --------------------------------------------------------------------------------------------
# output format
# --------------------------------------------------------------------------------------------
def test_log_prefix_format():
    out = make_out()
    out.log('gs_ctl query ,datadir is /data \n')
    text = out.stream.getvalue()
    assert PREFIX.match(text)
    assert text.endswith(']: gs_ctl query ,datadir is /data \n')
    assert '[4242][][gs_ctl]' in text


def test_raw_output_has_no_prefix_and_silent_mode():
    out = make_out()
    out.raw('.')
    out.silent = True
    out.raw('hidden')
    assert out.stream.getvalue() == '.'


def test_titles_and_rows_match_real_fixture_layout():
    """The HA block and titles are byte-identical to a real openGauss 3.0 capture."""
    with open(os.path.join(FIXTURES, 'og3.0_primary_one_sender.txt')) as handle:
        real = handle.read().splitlines(True)
    ha = {'local_role': 'Primary', 'static_connections': '1', 'db_state': 'Normal', 'detail_information': 'Normal'}
    mine = gsd.format_title('HA state:') + gsd.format_rows(gsd.HA_KEYS, [ha])
    assert mine == ''.join(real[1:7])
    assert gsd.format_title('Senders info:') == real[7]
    assert gsd.format_title('Receiver info:') + gsd.format_rows(gsd.RECEIVER_KEYS, []) == ''.join(real[-2:])


def test_sender_block_matches_real_fixture_layout():
    with open(os.path.join(FIXTURES, 'og3.0_primary_one_sender.txt')) as handle:
        real = handle.read().splitlines(True)
    values = dict((key.strip(), value) for key, value in (line.strip('\t\n').split(' : ', 1) for line in real[8:26]))
    assert gsd.format_rows(gsd.SENDER_KEYS, [values]) == ''.join(real[8:27])


def test_no_information_has_trailing_space():
    assert gsd.format_rows(gsd.SENDER_KEYS, []) == 'No information \n'


# --------------------------------------------------------------------------------------------
# argument parsing and usage errors
# --------------------------------------------------------------------------------------------
def parse(argv, environ=None):
    return gsd.parse_args(argv, make_out(), environ if environ is not None else {})


def test_parse_start_options_in_any_order():
    opts = parse(['-D', '/data/dn', 'start', '-M', 'primary', '-Z', 'single_node', '-l', '/tmp/l', '-o', '-p 5433',
                  '-t', '30'])
    assert (opts.command, opts.pgdata, opts.mode, opts.log_file, opts.post_opts, opts.wait_seconds) == \
        ('start', '/data/dn', 'primary', '/tmp/l', '-p 5433', 30)
    assert opts.wait is True


def test_parse_attached_values_and_long_options():
    opts = parse(['stop', '-D/data/x/', '--mode=immediate', '--timeout', '5'])
    assert (opts.pgdata, opts.shutdown_mode, opts.wait_seconds) == ('/data/x', 'immediate', 5)
    opts = parse(['build', '--pgdata=/d', '-b', 'incremental', '-r', '30', '-C', 'host=1.2.3.4 port=5433', '-q'])
    assert (opts.build_mode, opts.recv_timeout, opts.conn_str, opts.no_start) == \
        ('incremental', 30, 'host=1.2.3.4 port=5433', True)


@pytest.mark.parametrize('command, waits', [
    ('start', True), ('stop', True), ('restart', True), ('switchover', True), ('failover', True),
    ('build', True), ('notify', True), ('query', False), ('status', False),
])
def test_default_wait_per_command(command, waits):
    assert parse([command, '-D', '/d']).wait is waits
    assert parse([command, '-D', '/d', '-W']).wait is False


@pytest.mark.parametrize('value, mode', [
    ('full', 'full'), ('incremental', 'incremental'), ('standby_full', 'standby_full'), ('auto', 'auto'),
    ('no-such-mode', 'auto'), ('check', 'not_emulated'),
])
def test_build_mode_unknown_is_auto(value, mode):
    assert parse(['build', '-D', '/d', '-b', value]).build_mode == mode
    assert parse(['build', '-D', '/d']).build_mode == 'auto'


def test_relative_datadir_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    assert parse(['query', '-D', 'dn/']).pgdata == os.path.join(str(tmp_path), 'dn')


def test_pgdata_from_environment():
    assert parse(['query'], {'PGDATA': '/env/dn'}).pgdata == '/env/dn'


@pytest.mark.parametrize('argv, message', [
    (['stop', '-D', '/d', '-m', 'smart'], ' unrecognized shutdown mode "smart"\n'),
    (['switchover', '-D', '/d', '-m', 'smart'], ' unrecognized shutdown mode "smart"\n'),
    (['-D', '/d'], ' no operation specified\n'),
    (['start', 'stop', '-D', '/d'], 'too many command-line arguments (first is)\n'),
    (['frobnicate', '-D', '/d'], ' unrecognized operation mode "frobnicate"\n'),
    (['query'], ' no database directory specified and environment variable PGDATA unset\n'),
    (['start', '-D', '/d', '-t', '-1'], 'unexpected wait seconds specified\n'),
    (['build', '-D', '/d', '-r', '-1'], ' invalid recv timeout\n'),
    (['start', '-D', '/d', '-Z', 'datanode'], ' --coordinator and --datanode option are not supported on single node mode\n'),
    (['switchover', '-D', '/d', '-T', 'x'], 'unexpected term specified\n'),
])
def test_bad_usage_exits_1_on_stdout(argv, message, capsys):
    code, text = run(argv)
    assert code == 1
    first = text.splitlines(True)[0]
    assert PREFIX.match(first) and first[PREFIX.match(first).end():] == message
    assert capsys.readouterr().err == ''


@pytest.mark.parametrize('argv, stderr', [
    (['query', '-D', '/d', '-y'], "gs_ctl: invalid option -- 'y'\n"),
    (['query', '-D'], "gs_ctl: option requires an argument -- 'D'\n"),
    (['query', '--frob'], "gs_ctl: unrecognized option '--frob'\n"),
])
def test_getopt_errors_like_glibc(argv, stderr, capsys):
    code, text = run(argv)
    assert code == 1
    assert text == 'Try "gs_ctl --help" for more information.\n'
    assert capsys.readouterr().err == stderr


def test_advice_follows_unknown_command():
    code, text = run(['frobnicate', '-D', '/d'])
    assert code == 1 and text.endswith('Try "gs_ctl --help" for more information.\n')


def test_help_and_version_exit_0():
    code, text = run(['--help'])
    assert code == 0 and 'Usage:' in text
    code, text = run(['-V'])
    assert code == 0 and text.startswith('gs_ctl ')


def test_root_refused(monkeypatch):
    monkeypatch.setattr(gsd.os, 'geteuid', lambda: 0)
    code, text = run(['query', '-D', '/d'])
    assert code == 1 and ' cannot be run as root\n' in text


# --------------------------------------------------------------------------------------------
# exit codes without a server (empty data directory)
# --------------------------------------------------------------------------------------------
def lines_of(text):
    return [PREFIX.sub('', line) for line in text.splitlines()]


def test_query_without_server(tmp_path):
    code, text = run(['query', '-D', str(tmp_path)])
    assert code == 1
    assert lines_of(text) == ['gs_ctl query ,datadir is %s ' % tmp_path,
                              ' PID file "%s/postmaster.pid" does not exist' % tmp_path,
                              'Is server running?']


def test_stop_without_server(tmp_path):
    code, text = run(['stop', '-D', str(tmp_path)])
    assert code == 1
    assert lines_of(text)[1:] == [' PID file "%s/postmaster.pid" does not exist.' % tmp_path, 'Is server running?']


def test_stop_immediate_without_server_kills_leftovers_and_exits_0(tmp_path):
    code, text = run(['stop', '-D', str(tmp_path), '-m', 'immediate'])
    assert code == 0
    assert lines_of(text)[-1] == 'server stopped'
    assert 'stop failed, killing gaussdb by force ...' in lines_of(text)


def test_status_without_server_exits_3(tmp_path):
    code, text = run(['status', '-D', str(tmp_path)])
    assert code == 3
    assert text.splitlines()[-1] == 'no server running'


@pytest.mark.parametrize('command', ['failover', 'switchover'])
def test_failover_switchover_without_server(tmp_path, command):
    code, text = run([command, '-D', str(tmp_path)])
    assert code == 1
    assert lines_of(text)[1] == '%s term (1)' % command
    assert (tmp_path / 'term_file').read_bytes() == (1).to_bytes(4, gsd.sys.byteorder)


def test_switchover_immediate_refused(tmp_path):
    code, text = run(['switchover', '-D', str(tmp_path), '-m', 'immediate'])
    assert code == 1
    assert lines_of(text)[-1] == 'datanode does not support smart or immediate switchover'


def test_notify_needs_mode(tmp_path):
    code, text = run(['notify', '-D', str(tmp_path)])
    assert code == 1 and lines_of(text)[-1] == 'the parameter of notify must be specified'


def test_dead_pid_file_query(tmp_path):
    (tmp_path / 'postmaster.pid').write_text(u'999999\n%s\n' % tmp_path)
    code, text = run(['query', '-D', str(tmp_path)])
    assert code == 1
    assert 'the postmaster process 999999 is not running' in text


def test_invalid_pid_file(tmp_path):
    (tmp_path / 'postmaster.pid').write_text(u'garbage\n')
    code, text = run(['query', '-D', str(tmp_path)])
    assert code == 1 and 'invalid data in PID file' in text


@pytest.mark.parametrize('command, code', [('start', 0), ('restart', 0), ('failover', 1), ('switchover', 1),
                                           ('build', 1)])
def test_lock_held(tmp_path, command, code):
    fd = os.open(str(tmp_path / 'pg_ctl.lock'), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        rc, text = run([command, '-D', str(tmp_path), '-b', 'full'] if command == 'build' else [command, '-D', str(tmp_path)])
    finally:
        os.close(fd)
    assert rc == code
    assert lines_of(text)[-1] == 'Another gs_ctl command is still running,%s failed !' % command


def test_not_emulated_subcommands(tmp_path):
    code, text = run(['querybuild', '-D', str(tmp_path)])
    assert code == 1 and 'not emulated' in text
    code, text = run(['build', '-D', str(tmp_path), '-b', 'check'])
    assert code == 1 and 'not emulated' in text


def test_first_lines():
    assert gsd.FIRST_LINE['start'] % '/d' == 'gs_ctl started,datadir is /d \n'
    assert gsd.FIRST_LINE['stop'] % '/d' == 'gs_ctl stopped ,datadir is /d \n'
    opts = parse(['build', '-D', '/d', '-b', 'full'])
    assert gsd.build_title(opts) == 'gs_ctl full build ,datadir is /d\n'
    opts = parse(['build', '-D', '/d', '-C', 'host=h port=1'])
    assert gsd.build_title(opts) == "gs_ctl incremental build ,datadir is /d,conn_str is 'host=h port=1'\n"
    assert gsd.build_title(parse(['build', '-D', '/d', '-b', 'standby_full'])) == \
        'gs_ctl standby full build ,datadir is /d\n'


# --------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------
RCI = 'localhost=10.0.0.1 localport=5433 localservice=5434 remotehost=10.0.0.2 remoteport=5433 remoteservice=5434'


def test_parse_replconninfo():
    info = gsd.parse_replconninfo(RCI + ' iscascade=true')
    assert info['localhost'] == '10.0.0.1' and info['localport'] == 5433
    assert info['remotehost'] == '10.0.0.2' and info['remoteport'] == 5433
    assert info['iscascade'] == 'true'


@pytest.mark.parametrize('value', ['', None, 'localhost=a localport=1 remotehost=b',
                                   'localhost=a localport=x remotehost=b remoteport=2'])
def test_parse_replconninfo_invalid(value):
    assert gsd.parse_replconninfo(value) is None


def test_replconninfos_in_order_with_gaps():
    settings = {'replconninfo3': RCI.replace('10.0.0.2', '10.0.0.4'), 'replconninfo1': RCI, 'replconninfo2': 'junk',
                'replconninfo9': RCI}
    channels = gsd.replconninfos(settings)
    assert [index for index, _info in channels] == [1, 3]


def test_conf_text_marker_and_quotes():
    text = (u"port = 5432\n#gs_double: replconninfo1 = '%s'\n# replconninfo2 = 'x'\n"
            u"#gs_double: most_available_sync = on # comment\nlisten_addresses = 'it''s' # c\n" % RCI)
    assert gsd.parse_conf_text(text) == {'port': '5432', 'listen_addresses': "it's"}
    assert gsd.parse_conf_text(text, gsd.DOUBLE_MARKER) == {'replconninfo1': RCI, 'most_available_sync': 'on'}


def test_gs_double_conf_overrides_marker(tmp_path):
    (tmp_path / 'postgresql.conf').write_text(u"#gs_double: replconninfo1 = 'old'\n#gs_double: pgxc_node_name = 'dn1'\n")
    (tmp_path / 'gs_double.conf').write_text(u"replconninfo1 = '%s'\n" % RCI)
    _pg, og = gsd.read_settings(str(tmp_path))
    assert og == {'replconninfo1': RCI, 'pgxc_node_name': 'dn1'}


def test_real_lines_and_precedence(tmp_path):
    """Real postgresql.conf lines count; #gs_double: lines win over them, DATADIR/gs_double.conf
    over both; gs_double.conf next to the double is the lowest."""
    (tmp_path / 'postgresql.conf').write_text(
        u"port = 5432\nreplconninfo1 = '%s'\nmost_available_sync = on\nreplication_type = 1\n"
        u"#gs_double: most_available_sync = off\n" % RCI)
    (tmp_path / 'bin.conf').write_text(u"double_repl_user = 'replicator'\nreplication_type = 9\n")
    pg, og = gsd.read_settings(str(tmp_path), bin_conf=str(tmp_path / 'bin.conf'))
    assert pg['replconninfo1'] == RCI and og['replconninfo1'] == RCI
    assert og['most_available_sync'] == 'off' and og['replication_type'] == '1'
    assert og['double_repl_user'] == 'replicator' and og['port'] == '5432'
    assert [i for i, _c in gsd.replconninfos(og)] == [1]


def test_primary_conninfo_bounds_each_peer_attempt(tmp_path):
    """Every channel's peer, the primary first, read-write only; each attempt bounded by connect_timeout and, as
    PostgreSQL's walreceiver ignores connect_timeout, by tcp_user_timeout (a killed peer held one ~71 s)."""
    (tmp_path / 'postgresql.conf').write_text(
        u"replconninfo1 = '%s'\nreplconninfo2 = '%s'\napplication_name = 'dn_3'\n"
        u"#gs_double: double_repl_user = 'replicator'\n" % (RCI, RCI.replace('10.0.0.2', '10.0.0.4')))
    inst = gsd.Instance(str(tmp_path), out=None, bindir='/usr/lib/postgresql/15/bin')
    primary = inst.channels[1][1]
    assert inst.primary_conninfo(primary) == (
        "application_name='dn_3' connect_timeout='5' host='10.0.0.4,10.0.0.2' port='5432,5432' "
        "target_session_attrs='read-write' tcp_user_timeout='5000' user='replicator'")


KNOWN = frozenset(['port', 'listen_addresses', 'wal_level', 'synchronous_standby_names', 'wal_keep_size'])


def test_filter_conf_comments_out_unknown_settings():
    text = (u"# comment\nport = 5432\nreplconninfo1 = '%s'\nremote_read_mode = non_authentication\n"
            u"application_name = 'dn_1'\nmy.custom = 1\n#replconninfo2 = ''\ninclude_dir 'conf.d'\n" % RCI)
    out, dropped = gsd.filter_conf_text(text, KNOWN, 15)
    assert dropped == ['replconninfo1', 'remote_read_mode']
    lines = out.splitlines()
    assert lines[2] == "#gs_double filtered: replconninfo1 = '%s'" % RCI
    assert lines[3] == '#gs_double filtered: remote_read_mode = non_authentication'
    assert "application_name = 'dn_1'" in lines and 'my.custom = 1' in lines and "include_dir 'conf.d'" in lines
    assert '#replconninfo2 = \'\'' in lines
    assert gsd.parse_conf_text(out) == {'port': '5432', 'application_name': 'dn_1', 'my.custom': '1',
                                        'include_dir': 'conf.d'}


def test_filter_conf_translates_wal_keep_segments():
    out, dropped = gsd.filter_conf_text(u"wal_keep_segments = 64\n", KNOWN, 15)
    assert gsd.parse_conf_text(out) == {'wal_keep_size': '1024MB'} and dropped == ['wal_keep_segments']
    out, _d = gsd.filter_conf_text(u"wal_keep_size = '2GB'\nwal_keep_segments = 64\n", KNOWN, 15)
    assert gsd.parse_conf_text(out) == {'wal_keep_size': '2GB'}
    out, dropped = gsd.filter_conf_text(u"wal_keep_segments = 64\n", KNOWN | {'wal_keep_segments'}, 12)
    assert gsd.parse_conf_text(out) == {'wal_keep_segments': '64'} and dropped == []


def test_filter_conf_without_describe_config_uses_the_openGauss_list():
    out, dropped = gsd.filter_conf_text(u"replconninfo8 = 'x'\nmost_available_sync = on\nport = 1\n"
                                        u"double_admin_user = 'postgres'\nwork_mem = '4MB'\n", None, 15)
    assert dropped == ['replconninfo8', 'most_available_sync', 'double_admin_user']
    assert gsd.parse_conf_text(out) == {'port': '1', 'work_mem': '4MB'}


def test_filter_hba_maps_openGauss_methods():
    text = (u"local all all trust\nhost replication replicator 10.0.0.2/32 sha256\n"
            u"host all all 10.0.0.0 255.255.255.0 sm3 # c\nhost all all 10.0.0.3/32 md5\n# sha256\n")
    lines = gsd.filter_hba_text(text).splitlines()
    assert lines[0].split() == ['local', 'all', 'all', 'trust']
    assert lines[1].split() == ['host', 'replication', 'replicator', '10.0.0.2/32', 'scram-sha-256']
    assert lines[2].split() == ['host', 'all', 'all', '10.0.0.0', '255.255.255.0', 'scram-sha-256', '#', 'c']
    assert lines[3].split()[-1] == 'md5' and lines[4] == '# sha256'


def test_reload_without_server(tmp_path):
    code, text = run(['reload', '-D', str(tmp_path)])
    assert code == 1
    assert lines_of(text)[0].endswith('gs_ctl reload ,datadir is %s ' % tmp_path)
    assert 'Is server running?' in text


def test_ha_port_offset():
    assert gsd.ha_port_offset({}) == 1
    assert gsd.ha_port_offset({'double_ha_port_offset': '0'}) == 0


def test_conninfo_quoting():
    assert gsd.conninfo(host='h', port=1, application_name="a'b", user='') == "application_name='a\\'b' host='h' port='1'"


# --------------------------------------------------------------------------------------------
# rows
# --------------------------------------------------------------------------------------------
CHANNELS = [(1, gsd.parse_replconninfo(RCI)), (2, gsd.parse_replconninfo(RCI.replace('10.0.0.2', '10.0.0.3')))]


def pg_replication(**changes):
    rec = {'pid': '8784', 'state': 'streaming', 'sent_lsn': '0/4000148', 'write_lsn': '0/4000148',
           'flush_lsn': '0/4000148', 'replay_lsn': '0/4000148', 'sync_state': 'sync', 'sync_priority': '1',
           'client_addr': '10.0.0.2', 'client_port': '51926', 'local_write': '0/4000148',
           'local_flush': '0/4000148', 'local_replay': '0/4000148', 'server_addr': '', 'server_port': ''}
    rec.update(changes)
    return rec


def test_sender_row():
    row = gsd.sender_row(pg_replication(), 'Primary', CHANNELS, 1, False)
    assert row['channel'] == '10.0.0.1:5433-->10.0.0.2:51926'
    assert (row['state'], row['sync_state'], row['sync_percent'], row['peer_role']) == ('Streaming', 'Sync', '100%', 'Standby')
    assert row['sync_most_available'] == 'Off'
    assert list(row) == list(gsd.SENDER_KEYS)


def test_sender_row_zero_locations_and_lag():
    row = gsd.sender_row(pg_replication(state='catchup', replay_lsn='', flush_lsn='0/2000000', sync_state='potential',
                                        local_flush='0/4000000'), 'Primary', CHANNELS, 1, True)
    assert row['receiver_replay_location'] == '0/4000148'
    assert (row['state'], row['peer_state'], row['sync_state']) == ('Catchup', 'Catchup', 'Potential')
    assert row['sync_percent'] == '50%'
    assert row['sync_most_available'] == 'On'


def test_sender_row_unknown_client_uses_server_address():
    row = gsd.sender_row(pg_replication(client_addr='10.9.9.9', server_addr='10.0.0.1', server_port='5432'),
                         'Standby', CHANNELS, 1, False)
    assert row['channel'] == '10.0.0.1:5433-->10.9.9.9:51926'
    assert row['peer_role'] == 'Cascade Standby'


def test_receiver_row():
    rec = {'pid': '8465', 'status': 'streaming', 'written_lsn': '0/4000268', 'flushed_lsn': '0/4000268',
           'latest_end_lsn': '0/4000268', 'sender_host': '10.0.0.100', 'sender_port': '26000', 'replay_lsn': '0/4000268'}
    row = gsd.receiver_row(rec, ('10.0.0.101', 51926), 1)
    assert row['channel'] == '10.0.0.101:51926<--10.0.0.100:26001'
    assert list(row) == list(gsd.RECEIVER_KEYS)


@pytest.mark.parametrize('args, expected', [
    (('Primary', 1, None), ('Normal', 'Normal')),
    (('Normal', 0, None), ('Normal', 'Normal')),
    (('Primary', 1, None, False, True), ('Demoting', 'Normal')),
    (('Standby', 1, 'streaming'), ('Normal', 'Normal')),
    (('Standby', 1, 'starting'), ('Starting', 'Normal')),
    (('Standby', 1, None), ('Need repair', 'Connecting...')),
    (('Standby', 0, None), ('Need repair', 'Disconnected')),
    (('Standby', 1, 'streaming', True), ('Promoting', 'Normal')),
    (('Pending', 1, None), ('Need repair', 'Disconnected')),
])
def test_ha_row(args, expected):
    row = gsd.ha_row(*args)
    assert (row['db_state'], row['detail_information']) == expected


@pytest.mark.parametrize('status, age, wait_event, expected', [
    ('streaming', '12.5', 'WalReceiverMain', 'streaming'),
    ('streaming', '1.0', 'WalReceiverMain', 'streaming'),
    # a walreceiver that has just started: a forked standby's is refused within milliseconds
    ('streaming', '0.004', 'WalReceiverMain', 'starting'),
    ('streaming', '0.004', None, 'starting'),
    ('streaming', '', 'WalReceiverMain', 'starting'),
    ('streaming', None, 'WalReceiverMain', 'starting'),
    # a forked standby's walreceiver that lives on (seen in the smoke check: pid 18, 12.5 s old, 'waiting' between
    # tries, 'streaming' during each): in a command, or in no wait, never in its streaming loop
    ('streaming', '14.658', 'LibPQWalReceiverReceive', 'starting'),
    ('streaming', '15.117', None, 'starting'),
    ('waiting', '12.520', 'WalReceiverWaitStart', 'waiting'),
    ('starting', '30', None, 'starting'),
    ('waiting', '30', None, 'waiting'),
    (None, None, None, None),
])
def test_settled_receiver_status(status, age, wait_event, expected):
    assert gsd.settled_receiver_status(status, age, wait_event) == expected


@pytest.mark.parametrize('age, wait_event, db_state', [
    ('0.004', 'WalReceiverMain', 'Starting'),
    ('3', 'WalReceiverMain', 'Normal'),
    ('3', 'LibPQWalReceiverReceive', 'Starting'),
])
def test_a_just_connected_receiver_is_not_normal(age, wait_event, db_state):
    row = gsd.ha_row('Standby', 1, gsd.settled_receiver_status('streaming', age, wait_event))
    assert row['db_state'] == db_state


@pytest.mark.parametrize('in_recovery, recorded, role', [
    (False, 'Primary', 'Primary'), (False, 'Normal', 'Normal'), (False, 'Standby', 'Primary'),
    (True, 'Standby', 'Standby'), (True, 'Pending', 'Pending'), (True, 'Primary', 'Standby'), (False, None, 'Primary'),
])
def test_decide_role(in_recovery, recorded, role):
    assert gsd.decide_role(in_recovery, recorded) == role


def test_proc_net_addresses():
    assert gsd.parse_proc_net_addr('0100007F:1F90') == ('127.0.0.1', 8080)
    assert gsd.parse_proc_net_addr('0000000000000000FFFF00000C4D590A:D25A') == ('10.89.77.12', 53850)
    assert gsd.parse_proc_net_addr('00000000000000000000000001000000:0016') == ('0:0:0:0:0:0:0:1', 22)


def test_socket_local_end_from_fake_proc(tmp_path):
    fd_dir = tmp_path / '77' / 'fd'
    fd_dir.mkdir(parents=True)
    os.symlink('socket:[123]', str(fd_dir / '5'))
    os.symlink('/dev/null', str(fd_dir / '0'))
    net = tmp_path / '77' / 'net'
    net.mkdir()
    header = u'  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
    (net / 'tcp').write_text(header + u'   0: 0C4D590A:D25A 0B4D590A:1538 01 00000000:00000000 00:00000000 00000000   100        0 123\n')
    (net / 'tcp6').write_text(header)
    assert gsd.socket_local_end(77, proc=str(tmp_path)) == ('10.89.77.12', 53850)
    assert gsd.socket_local_end(78, proc=str(tmp_path)) is None


def test_lsn_and_percent():
    assert gsd.lsn_to_int('1/0') == 1 << 32
    assert gsd.lsn_to_int('junk') is None
    assert gsd.sync_percent('0/100', '0/100') == '100%'
    assert gsd.sync_percent('0/100', '0/200') == '100%'
    assert gsd.sync_percent('0/100', '0/80') == '50%'
    assert gsd.sync_percent('0/100', '0/FF') == '99%'


# --------------------------------------------------------------------------------------------
# every query output the double prints parses without warnings
# --------------------------------------------------------------------------------------------
def query_output(ha, senders, receivers):
    out = make_out()
    out.log('gs_ctl query ,datadir is /data/dn \n')
    out.raw(gsd.format_query(ha, senders, receivers))
    return out.stream.getvalue()


def receiver(**changes):
    rec = {'pid': '8465', 'status': 'streaming', 'written_lsn': '0/4000268', 'flushed_lsn': '0/4000268',
           'latest_end_lsn': '0/4000268', 'sender_host': '10.0.0.1', 'sender_port': '5432', 'replay_lsn': '0/4000268'}
    rec.update(changes)
    return gsd.receiver_row(rec, ('10.0.0.2', 40000), 1)


CASES = [
    # name, ha_row args, senders, receivers, role, summary role
    ('primary_alone', ('Primary', 1, None), [], [], 'Primary', 'primary'),
    ('primary_two_senders', ('Primary', 2, None),
     [gsd.sender_row(pg_replication(), 'Primary', CHANNELS, 1, False),
      gsd.sender_row(pg_replication(pid='9', client_addr='10.0.0.3', sync_state='potential'), 'Primary', CHANNELS, 1, True)],
     [], 'Primary', 'primary'),
    ('primary_async_catchup', ('Primary', 1, None),
     [gsd.sender_row(pg_replication(state='catchup', sync_state='async', sync_priority='0'), 'Primary', CHANNELS, 1, False)],
     [], 'Primary', 'primary'),
    ('primary_quorum_startup', ('Primary', 1, None),
     [gsd.sender_row(pg_replication(state='startup', sync_state='quorum', client_port=''), 'Primary', CHANNELS, 1, False)],
     [], 'Primary', 'primary'),
    ('primary_demoting', ('Primary', 1, None, False, True), [], [], 'Primary', 'primary'),
    ('normal', ('Normal', 0, None), [], [], 'Normal', 'primary'),
    ('standby_streaming', ('Standby', 1, 'streaming'), [], [receiver()], 'Standby', 'standby'),
    ('standby_cascading', ('Standby', 1, 'streaming'),
     [gsd.sender_row(pg_replication(), 'Standby', CHANNELS, 1, False)], [receiver(written_lsn='', replay_lsn='0/0')],
     'Standby', 'standby'),
    ('standby_starting', ('Standby', 1, 'starting'), [], [], 'Standby', 'standby'),
    ('standby_need_repair', ('Standby', 1, None), [], [], 'Standby', 'standby'),
    ('standby_no_channel', ('Standby', 0, 'waiting'), [], [], 'Standby', 'standby'),
    ('standby_promoting', ('Standby', 1, 'streaming', True), [], [receiver()], 'Standby', 'standby'),
    ('pending', ('Pending', 1, None), [], [], 'Pending', 'pending'),
]


@pytest.mark.parametrize('name, ha_args, senders, receivers, role, summary_role', CASES, ids=[c[0] for c in CASES])
def test_parse_query_of_double_output_has_no_warnings(name, ha_args, senders, receivers, role, summary_role):
    text = query_output(gsd.ha_row(*ha_args), senders, receivers)
    parsed = parse_query(text)
    assert parsed['warnings'] == [], name
    assert parsed['unparsed'] == []
    assert parsed['ha_state']['local_role'] == role
    assert len(parsed['senders']) == len(senders)
    assert (parsed['receiver'] is not None) == bool(receivers)
    assert parsed['log_lines'] and 'gs_ctl query ,datadir is /data/dn' in parsed['log_lines'][0]
    for row in parsed['senders']:
        assert set(row) == set(gsd.SENDER_KEYS)
        if row['channel']:
            assert parse_channel(row['channel'])['direction'] == 'out'
    if receivers:
        assert parse_channel(parsed['receiver']['channel'])['direction'] == 'in'
    result = summary(parsed)
    assert result['role'] == summary_role and result['warnings'] == []


def test_parse_query_of_display_query_fallback():
    out = make_out()
    out.log('gs_ctl query ,datadir is /data/dn \n')
    state = {'mode': 'Standby', 'conn_num': 1, 'state': 'Starting', 'sync_stat': False}
    out.raw(gsd.format_display_query(state, 'psql: error: the database system is starting up'))
    parsed = parse_query(out.stream.getvalue())
    assert parsed['warnings'] == [] and parsed['unparsed'] == []
    assert parsed['ha_state']['local_role'] == 'Standby'
    assert parsed['ha_state']['sync_mode'] == 'Async'
    assert sorted(parsed['no_information']) == ['receiver', 'senders']
    assert parse_query(gsd.format_display_query({}, None))['ha_state']['detail_information'] == 'Access denied'


# ---- switchover: the standby is promoted only once the old primary's shutdown checkpoint is here -----------------

WALDUMP = os.path.join(HERE, '..', 'fixtures', 'pg_waldump')


class ShutdownInst:
    """Just what _received_shutdown_checkpoint uses of an instance."""

    def __init__(self):
        self.datadir = '/og/data'
        self.bindir = '/usr/lib/postgresql/15/bin'

    def local_conn(self):
        return 'host=/tmp port=5432'

    def psql(self, conn, sql, timeout=30, replication=False):
        return [['1', '16777216']], None

    def path(self, name):
        return os.path.join(self.datadir, name)

    def tool(self, name):
        return os.path.join(self.bindir, name)


@pytest.mark.parametrize('fixture, received, since, promoted', [
    ('shutdown-tail-pg15.txt', '0/1527138', '0/15270C0', True),
    ('shutdown-tail-pg13.txt', '0/15F10D8', '0/15F1060', True),
    ('commit-tail-pg15.txt', '0/15270C0', '0/15270C0', False),    # the checkpoint has not arrived: promoting would fork
    ('shutdown-tail-pg15.txt', '0/1528000', '0/15270C0', False),    # more WAL after the checkpoint
    ('shutdown-tail-pg15.txt', '0/1527138', '0/1527138', False),    # an older checkpoint, from before the request
])
def test_switchover_waits_for_the_shutdown_checkpoint(monkeypatch, fixture, received, since, promoted):
    with open(os.path.join(WALDUMP, fixture)) as handle:
        output = handle.read()
    calls = []

    def fake_run(argv, **kw):
        calls.append(argv)
        return gsd.subprocess.CompletedProcess(argv, 0, stdout=output, stderr='')

    monkeypatch.setattr(gsd.subprocess, 'run', fake_run)
    assert gsd._received_shutdown_checkpoint(ShutdownInst(), gsd.lsn_to_int(received), gsd.lsn_to_int(since)) is promoted
    assert calls[0][:5] == ['/usr/lib/postgresql/15/bin/pg_waldump', '--path', '/og/data/pg_wal', '--timeline', '1']
    assert calls[0][-2:] == ['--end', received]
