# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import pwd
import stat

import pytest

from ansible_collections.pgstream.replication.plugins.modules import basebackup
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_cmd import (
    FakeRunner, FakeServer, run_module)

PASSWORD = 'Sup3r:S3cret\\pw'
SYSID = '7711330958549827612'
OTHER_SYSID = '7000000000000000001'
FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'fixtures',
                       'pg_controldata', 'pg15_shut_down.txt')
ME = pwd.getpwuid(os.geteuid())


def controldata_text(sysid):
    with open(FIXTURE) as f:
        return f.read().replace(SYSID, sysid)


def make_cluster(path, sysid=SYSID, major='15'):
    os.makedirs(os.path.join(path, 'global'))
    with open(os.path.join(path, 'global', 'pg_control'), 'wb') as f:
        f.write(b'\0' * 64)
    with open(os.path.join(path, 'PG_VERSION'), 'w') as f:
        f.write(major + '\n')
    with open(os.path.join(path, 'sysid'), 'w') as f:  # read by the fake pg_controldata
        f.write(sysid)


def fake_pg_basebackup(major='15', rc=0, err='', sysid=SYSID, auto_conf="# Do not edit\nprimary_conninfo = 'host=old'\n"):
    def handler(argv, kw):
        if rc:
            partial = argv[argv.index('-D') + 1]
            os.makedirs(os.path.join(partial, 'base'))  # what a killed pg_basebackup leaves behind
            return rc, '', err
        target = argv[argv.index('-D') + 1]
        make_cluster(target, sysid, major)
        with open(os.path.join(target, 'base', 'data'), 'w') if os.path.isdir(os.path.join(target, 'base')) else \
                open(os.path.join(target, 'datafile'), 'w') as f:
            f.write('x' * 1000)
        if auto_conf is not None:
            with open(os.path.join(target, 'postgresql.auto.conf'), 'w') as f:
                f.write(auto_conf)
        return 0, '', ''
    return handler


def fake_pg_controldata(argv, kw):
    data_dir = argv[argv.index('-D') + 1]
    with open(os.path.join(data_dir, 'sysid')) as f:
        return 0, controldata_text(f.read()), ''


@pytest.fixture
def env(tmp_path, monkeypatch):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    home = tmp_path / 'home'
    home.mkdir()
    monkeypatch.setattr(basebackup.pwd, 'getpwnam', lambda name: _pw(name, str(home)))
    monkeypatch.setattr(basebackup.AnsibleModule, 'get_bin_path',
                        lambda self, name, required=False, opt_dirs=None: '/usr/bin/%s' % name if name == 'timeout' else None)
    return tmp_path


def _pw(name, home):
    if name != 'postgres':
        raise KeyError(name)
    return pwd.struct_passwd(('postgres', 'x', ME.pw_uid, ME.pw_gid, '', home, '/bin/sh'))


def args_for(tmp_path, **kw):
    args = dict(data_dir=str(tmp_path / 'pg' / '15' / 'standby'), primary_host='pg1', replication_password=PASSWORD,
                bindir=str(tmp_path / 'bin'))
    args.update(kw)
    return args


def runner(**kw):
    handlers = {'pg_basebackup': fake_pg_basebackup(), 'pg_controldata': fake_pg_controldata}
    handlers.update(kw)
    return FakeRunner(handlers)


def go(monkeypatch, args, server=None, check_mode=False, run=None):
    servers = {'pg1': server or FakeServer()}
    run = run or runner()
    result = run_module(basebackup, args, check_mode=check_mode, runner=run, monkeypatch=monkeypatch, servers=servers)
    assert PASSWORD not in result.text
    assert 'S3cret' not in result.text
    return result, run, servers['pg1']


def tree(path):
    found = []
    for root, dirs, files in os.walk(str(path)):
        found += [os.path.join(root, n) for n in dirs + files]
    return sorted(found)


# ---- argument validation -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('change, message', [
    ({'data_dir': None}, 'data_dir'),
    ({'primary_host': None}, 'primary_host'),
    ({'create_slot': True}, 'slot_name'),
    ({'pg_major': '15'}, 'mutually exclusive'),
    ({'wal_method': 'tar'}, 'wal_method'),
    ({'checkpoint': 'now'}, 'checkpoint'),
    ({'data_dir': 'relative/dir'}, 'absolute path'),
    ({'data_dir': '/'}, 'must not be /'),
    ({'primary_port': 0}, 'primary_port'),
    ({'timeout': -1}, 'timeout must be'),
    ({'connect_timeout': 0}, 'connect_timeout'),
    ({'max_rate': '10G'}, 'max_rate'),
    ({'max_rate': 'fast'}, 'max_rate'),
    ({'max_rate': '0'}, 'max_rate'),
    ({'create_slot': True, 'slot_name': 's', 'wal_method': 'fetch'}, 'create_slot needs wal_method=stream'),
    ({'primary_host': ' '}, 'primary_host must not be empty'),
    ({'owner': 'nobody-here'}, 'owner nobody-here does not exist'),
    ({'mode': '0755'}, "mode must be one of '0700', '0750'"),
    ({'mode': 'rwx'}, 'mode must be one of'),
    ({'mode': True}, 'mode must be one of'),
])
def test_bad_arguments(env, monkeypatch, change, message):
    args = args_for(env)
    for key, value in change.items():
        if value is None:
            args.pop(key)
        else:
            args[key] = value
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and message in result['msg']
    assert run.calls == [] and server.connects == []
    assert not os.path.exists(args.get('data_dir') or '/nonexistent') or args['data_dir'] == '/'


@pytest.mark.parametrize('mode, expected', [('0700', 0o700), ('750', 0o750), (0o700, 0o700), (0o750, 0o750)])
def test_mode_forms(env, monkeypatch, mode, expected):
    result, run, server = go(monkeypatch, args_for(env, mode=mode))
    assert result['changed']
    assert stat.S_IMODE(os.stat(result['data_dir']).st_mode) == expected


def test_not_root_nor_owner(env, monkeypatch):
    monkeypatch.setattr(basebackup.os, 'geteuid', lambda: 4242)
    result, run, server = go(monkeypatch, args_for(env))
    assert result['failed'] and 'must run as root or as the owner postgres' in result['msg']


# ---- fresh clone -----------------------------------------------------------------------------------------------------

def test_clone_into_absent_dir(env, monkeypatch):
    args = args_for(env, application_name='pg2', slot_name='pg2')
    result, run, server = go(monkeypatch, args)
    data_dir = args['data_dir']
    bindir = args['bindir']
    assert result['changed'] is True
    assert run.argvs('pg_basebackup') == [[os.path.join(bindir, 'pg_basebackup'), '-D', data_dir + '.partial', '-h', 'pg1',
                                           '-p', '5432', '-U', 'replicator', '-w', '-X', 'stream', '-c', 'fast', '-S', 'pg2']]
    assert result['cmd'] == ' '.join(run.argvs('pg_basebackup')[0])
    argv, kw, snapshot = run.calls[0]
    env_update = kw['environ_update']
    assert env_update['PGCONNECT_TIMEOUT'] == '10'
    assert snapshot == {'passfile_mode': 0o600, 'passfile_content': 'pg1:5432:*:replicator:Sup3r\\:S3cret\\\\pw\n'}
    assert not os.path.exists(env_update['PGPASSFILE'])
    assert not any(PASSWORD in a for a in argv)
    assert os.path.isfile(os.path.join(data_dir, 'global', 'pg_control'))
    assert not os.path.exists(data_dir + '.partial')
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    assert result['system_identifier'] == SYSID and result['timeline'] == 1
    assert result['moved_aside'] is None and result['removed_partial'] is None
    assert result['bytes'] > 1000 and result['duration'] >= 0
    # standby configuration (15): standby.signal + postgresql.auto.conf, password only in the passfile
    assert os.path.isfile(os.path.join(data_dir, 'standby.signal'))
    passfile = str(env / 'home' / '.pgpass')
    with open(os.path.join(data_dir, 'postgresql.auto.conf')) as f:
        assert f.read() == ("# Do not edit\n"
                            "primary_conninfo = 'host=pg1 port=5432 user=replicator passfile=%s application_name=pg2'\n"
                            "primary_slot_name = 'pg2'\n" % passfile)
    assert result['passfile'] == passfile
    assert stat.S_IMODE(os.stat(passfile).st_mode) == 0o600
    with open(passfile) as f:
        assert f.read() == 'pg1:5432:*:replicator:Sup3r\\:S3cret\\\\pw\n'
    # the upstream was asked over a replication connection, with the password as a connect() argument only
    assert server.statements == ['IDENTIFY_SYSTEM']
    assert server.connects[0]['password'] == PASSWORD


def test_clone_pg11_writes_recovery_conf(env, monkeypatch):
    args = args_for(env, passfile_path=str(env / 'pgpass'))
    run = runner(pg_basebackup=fake_pg_basebackup(major='11', auto_conf=None))
    result, run, server = go(monkeypatch, args, server=FakeServer(version_num=110022), run=run)
    data_dir = args['data_dir']
    assert not os.path.exists(os.path.join(data_dir, 'standby.signal'))
    with open(os.path.join(data_dir, 'recovery.conf')) as f:
        assert f.read() == ("standby_mode = 'on'\n"
                            "primary_conninfo = 'host=pg1 port=5432 user=replicator passfile=%s'\n"
                            "recovery_target_timeline = 'latest'\n" % (env / 'pgpass'))


def test_clone_without_password_or_recovery_conf(env, monkeypatch):
    args = args_for(env, write_recovery_conf=False)
    del args['replication_password']
    result, run, server = go(monkeypatch, args)
    argv, kw, snapshot = run.calls[0]
    assert 'PGPASSFILE' not in kw['environ_update'] and snapshot == {}
    assert 'password' not in server.connects[0]
    assert result['passfile'] is None and result['primary_conninfo'] is None
    assert not os.path.exists(os.path.join(args['data_dir'], 'standby.signal'))
    assert not os.path.exists(str(env / 'home' / '.pgpass'))


def test_conninfo_without_password_has_no_passfile(env, monkeypatch):
    args = args_for(env)
    del args['replication_password']
    result, run, server = go(monkeypatch, args)
    assert result['primary_conninfo'] == 'host=pg1 port=5432 user=replicator'


@pytest.mark.parametrize('extra, tail', [
    ({'max_rate': '10M', 'wal_method': 'fetch', 'slot_name': 's1', 'checkpoint': 'spread'},
     ['-X', 'fetch', '-c', 'spread', '-r', '10M']),
    ({'slot_name': 's1', 'create_slot': True}, ['-X', 'stream', '-c', 'fast', '-S', 's1', '-C']),
    ({'wal_method': 'none'}, ['-X', 'none', '-c', 'fast']),
    ({'primary_port': 5433, 'replication_user': 'rep'}, ['-X', 'stream', '-c', 'fast']),
])
def test_argv(env, monkeypatch, extra, tail):
    args = args_for(env, **extra)
    result, run, server = go(monkeypatch, args)
    argv = run.argvs('pg_basebackup')[0]
    assert argv[:12] == [os.path.join(args['bindir'], 'pg_basebackup'), '-D', args['data_dir'] + '.partial', '-h', 'pg1',
                         '-p', str(extra.get('primary_port', 5432)), '-U', extra.get('replication_user', 'replicator'),
                         '-w', '-X', extra.get('wal_method', 'stream')]
    assert argv[10:] == tail


def test_timeout_wraps_command(env, monkeypatch):
    args = args_for(env, timeout=30)
    result, run, server = go(monkeypatch, args)
    assert run.calls[0][0][:4] == ['/usr/bin/timeout', '-k', '10', '30']
    assert run.calls[0][0][4] == os.path.join(args['bindir'], 'pg_basebackup')
    assert result['cmd'].startswith('/usr/bin/timeout -k 10 30 ')


def test_timeout_needs_coreutils(env, monkeypatch):
    monkeypatch.setattr(basebackup.AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: None)
    result, run, server = go(monkeypatch, args_for(env, timeout=30))
    assert result['failed'] and 'needs the timeout command' in result['msg']


@pytest.mark.parametrize('version_num, slots, has_c', [
    (150004, (), True), (150004, ('s1',), False), (140010, ('s1',), True),
])
def test_create_slot_reuses_existing_slot_on_15(env, monkeypatch, version_num, slots, has_c):
    server = FakeServer(version_num=version_num, slots=slots)
    result, run, server = go(monkeypatch, args_for(env, slot_name='s1', create_slot=True), server=server)
    assert ('-C' in run.argvs('pg_basebackup')[0]) is has_c
    assert ('READ_REPLICATION_SLOT "s1"' in server.statements) is (version_num >= 150000)


def test_bindir_from_upstream_major(env, monkeypatch):
    seen = {}

    def find(module, major=None, bindir=None):
        seen.update(major=major, bindir=bindir)
        return str(env / 'bin')
    monkeypatch.setattr(basebackup, 'find_bindir', find)
    args = args_for(env)
    del args['bindir']
    go(monkeypatch, args, server=FakeServer(version_num=140010))
    assert seen == {'major': 14, 'bindir': None}
    args['pg_major'] = '15'
    go(monkeypatch, dict(args, data_dir=str(env / 'other')))
    assert seen['major'] == '15'


def test_clone_replaces_empty_dir(env, monkeypatch):
    args = args_for(env)
    os.makedirs(args['data_dir'])
    result, run, server = go(monkeypatch, args)
    assert result['changed'] and result['moved_aside'] is None
    assert os.path.isfile(os.path.join(args['data_dir'], 'global', 'pg_control'))


def test_stale_partial_is_removed_and_clone_succeeds(env, monkeypatch):
    args = args_for(env)
    os.makedirs(os.path.join(args['data_dir'] + '.partial', 'base', '1'))
    result, run, server = go(monkeypatch, args)
    assert result['changed'] and result['removed_partial'] == args['data_dir'] + '.partial'
    assert os.path.isfile(os.path.join(args['data_dir'], 'global', 'pg_control'))
    assert not os.path.exists(args['data_dir'] + '.partial')


# ---- idempotence -----------------------------------------------------------------------------------------------------

def test_same_cluster_is_left_alone(env, monkeypatch):
    args = args_for(env)
    make_cluster(args['data_dir'])
    before = tree(args['data_dir'])
    result, run, server = go(monkeypatch, args)
    assert result['changed'] is True  # the passfile did not exist yet
    assert run.argvs('pg_basebackup') == []
    assert run.argvs('pg_controldata') == [[os.path.join(args['bindir'], 'pg_controldata'), '-D', args['data_dir']]]
    assert tree(args['data_dir']) == before
    result, run, server = go(monkeypatch, args)
    assert result['changed'] is False
    assert 'already holds a clone' in result['msg']
    assert 'cmd' not in result and result['bytes'] == 0


def test_same_cluster_passfile_password_change_is_a_change(env, monkeypatch):
    args = args_for(env)
    make_cluster(args['data_dir'])
    passfile = env / 'home' / '.pgpass'
    passfile.write_text('other:5432:*:x:y\npg1:5432:*:replicator:old\n')
    passfile.chmod(0o644)
    result, run, server = go(monkeypatch, args, check_mode=True)
    assert result['changed'] is True and result['would'] == 'none'
    assert passfile.read_text() == 'other:5432:*:x:y\npg1:5432:*:replicator:old\n'
    result, run, server = go(monkeypatch, args)
    assert result['changed'] is True
    assert passfile.read_text() == 'other:5432:*:x:y\npg1:5432:*:replicator:Sup3r\\:S3cret\\\\pw\n'
    assert stat.S_IMODE(passfile.stat().st_mode) == 0o600


def test_force_reclones_same_cluster_moving_it_aside(env, monkeypatch):
    args = args_for(env, force=True)
    make_cluster(args['data_dir'])
    result, run, server = go(monkeypatch, args)
    assert result['changed'] and len(run.argvs('pg_basebackup')) == 1
    moved = result['moved_aside']
    assert moved.startswith(args['data_dir'] + '.moved-') and len(os.path.basename(moved)) == len('standby.moved-20260101T120000')
    assert os.path.isfile(os.path.join(moved, 'sysid'))
    assert os.path.isfile(os.path.join(args['data_dir'], 'global', 'pg_control'))


def test_other_cluster_is_refused_naming_both_identifiers(env, monkeypatch):
    args = args_for(env)
    make_cluster(args['data_dir'], sysid=OTHER_SYSID)
    before = tree(env)
    result, run, server = go(monkeypatch, args)
    assert result['failed']
    assert args['data_dir'] in result['msg'] and OTHER_SYSID in result['msg'] and SYSID in result['msg']
    assert 'force' in result['msg']
    assert run.argvs('pg_basebackup') == [] and tree(env) == before


def test_other_cluster_with_force_is_moved_aside(env, monkeypatch):
    args = args_for(env, force=True)
    make_cluster(args['data_dir'], sysid=OTHER_SYSID)
    result, run, server = go(monkeypatch, args)
    with open(os.path.join(result['moved_aside'], 'sysid')) as f:
        assert f.read() == OTHER_SYSID
    assert result['changed'] and 'moved to' in result['msg']


def test_non_empty_dir_without_cluster_is_refused(env, monkeypatch):
    args = args_for(env)
    os.makedirs(args['data_dir'])
    with open(os.path.join(args['data_dir'], 'notes.txt'), 'w') as f:
        f.write('mine')
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and args['data_dir'] in result['msg'] and 'no global/pg_control' in result['msg']
    assert SYSID in result['msg']
    result, run, server = go(monkeypatch, dict(args, force=True))
    assert result['changed']
    with open(os.path.join(result['moved_aside'], 'notes.txt')) as f:
        assert f.read() == 'mine'


def test_moved_aside_name_is_unique(env, monkeypatch):
    args = args_for(env, force=True)
    make_cluster(args['data_dir'])
    monkeypatch.setattr(basebackup, 'moved_aside_path', lambda d: d + '.moved-20260101T120000')
    result, run, server = go(monkeypatch, args)
    assert result['moved_aside'] == args['data_dir'] + '.moved-20260101T120000'


# ---- check mode ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('setup, force, would', [
    ('absent', False, 'clone'),
    ('empty', False, 'clone'),
    ('same', False, 'none'),
    ('same', True, 'move_aside_and_clone'),
    ('other', True, 'move_aside_and_clone'),
])
def test_check_mode_touches_nothing(env, monkeypatch, setup, force, would):
    args = args_for(env, force=force)
    if setup == 'empty':
        os.makedirs(args['data_dir'])
    elif setup in ('same', 'other'):
        make_cluster(args['data_dir'], sysid=SYSID if setup == 'same' else OTHER_SYSID)
    os.makedirs(args['data_dir'] + '.partial')
    before = tree(env)
    result, run, server = go(monkeypatch, args, check_mode=True)
    assert result['would'] == would
    assert result['changed'] is True  # the passfile would be written in every case
    assert tree(env) == before
    assert run.argvs('pg_basebackup') == []
    assert ('cmd' in result) is (would != 'none')
    assert (result['moved_aside'] is not None) is (would == 'move_aside_and_clone')


def test_check_mode_reports_command(env, monkeypatch):
    args = args_for(env, slot_name='pg2')
    result, run, server = go(monkeypatch, args, check_mode=True)
    assert result['cmd'] == '%s -D %s.partial -h pg1 -p 5432 -U replicator -w -X stream -c fast -S pg2' % (
        os.path.join(args['bindir'], 'pg_basebackup'), args['data_dir'])
    assert 'would clone' in result['msg']
    assert not os.path.exists(str(env / 'pg'))


# ---- failures --------------------------------------------------------------------------------------------------------

def test_upstream_unreachable(env, monkeypatch):
    server = FakeServer(connect_error='connection to server at "pg1" failed: FATAL:  password authentication failed for '
                                      'user "replicator" (password %s)' % PASSWORD)
    result, run, server = go(monkeypatch, args_for(env), server=server)
    assert result['failed'] and 'IDENTIFY_SYSTEM' in result['msg'] and 'replicator@pg1:5432' in result['msg']
    assert '********' in result['msg']
    assert run.calls == []


def test_running_postmaster_is_refused_even_with_force(env, monkeypatch):
    args = args_for(env, force=True)
    make_cluster(args['data_dir'])
    with open(os.path.join(args['data_dir'], 'postmaster.pid'), 'w') as f:
        f.write('%d\n%s\n' % (os.getpid(), args['data_dir']))
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and 'postmaster (pid %d) is running' % os.getpid() in result['msg']
    assert run.argvs('pg_basebackup') == []
    assert os.path.isfile(os.path.join(args['data_dir'], 'sysid')) and os.listdir(os.path.dirname(args['data_dir'])) == ['standby']


def test_running_clone_of_the_upstream_is_unchanged(env, monkeypatch):
    args = args_for(env)
    make_cluster(args['data_dir'])
    with open(os.path.join(args['data_dir'], 'postmaster.pid'), 'w') as f:
        f.write('%d\n' % os.getpid())
    go(monkeypatch, args)  # writes the passfile
    result, run, server = go(monkeypatch, args)
    assert result['changed'] is False and 'failed' not in result
    assert run.argvs('pg_basebackup') == []


def test_running_postmaster_on_another_cluster_is_refused(env, monkeypatch):
    args = args_for(env, force=True)
    make_cluster(args['data_dir'], sysid=OTHER_SYSID)
    with open(os.path.join(args['data_dir'], 'postmaster.pid'), 'w') as f:
        f.write('%d\n' % os.getpid())
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and 'is running' in result['msg'] and result.get('moved_aside') is None


def test_stale_postmaster_pid_is_ignored(env, monkeypatch):
    args = args_for(env)
    make_cluster(args['data_dir'])
    with open(os.path.join(args['data_dir'], 'postmaster.pid'), 'w') as f:
        f.write('999999999\n')
    result, run, server = go(monkeypatch, args)
    assert 'failed' not in result


def test_data_dir_is_a_file(env, monkeypatch):
    args = args_for(env)
    os.makedirs(os.path.dirname(args['data_dir']))
    with open(args['data_dir'], 'w') as f:
        f.write('x')
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and 'is not a directory' in result['msg']


def test_data_dir_is_a_symlink(env, monkeypatch):
    args = args_for(env)
    os.makedirs(os.path.dirname(args['data_dir']))
    os.symlink(str(env), args['data_dir'])
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and 'symbolic link' in result['msg']


def test_mount_point_is_refused(env, monkeypatch):
    args = args_for(env)
    os.makedirs(args['data_dir'])
    monkeypatch.setattr(basebackup.os.path, 'ismount', lambda p: p == args['data_dir'])
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and 'mount point' in result['msg']


def test_pg_basebackup_failure_removes_partial(env, monkeypatch):
    args = args_for(env)
    run = runner(pg_basebackup=fake_pg_basebackup(rc=1, err='pg_basebackup: error: FATAL: no pg_hba.conf entry (%s)' % PASSWORD))
    result, run, server = go(monkeypatch, args, run=run)
    assert result['failed'] and result['rc'] == 1
    assert 'no pg_hba.conf entry' in result['msg'] and '********' in result['msg']
    assert 'was removed' in result['msg'] and 'was not changed' in result['msg']
    assert not os.path.exists(args['data_dir'] + '.partial') and not os.path.exists(args['data_dir'])


def test_failed_reclone_keeps_old_data_in_place(env, monkeypatch):
    args = args_for(env, force=True)
    make_cluster(args['data_dir'])
    run = runner(pg_basebackup=fake_pg_basebackup(rc=1, err='boom'))
    result, run, server = go(monkeypatch, args, run=run)
    assert result['failed']
    assert os.path.isfile(os.path.join(args['data_dir'], 'sysid'))
    assert [p for p in os.listdir(os.path.dirname(args['data_dir'])) if p != 'standby'] == []


@pytest.mark.parametrize('rc', [124, 137])
def test_timeout_message(env, monkeypatch, rc):
    args = args_for(env, timeout=5, max_rate='32k')
    run = runner(pg_basebackup=fake_pg_basebackup(rc=rc))
    result, run, server = go(monkeypatch, args, run=run)
    assert result['failed'] and 'did not finish within timeout=5 seconds' in result['msg']
    assert not os.path.exists(args['data_dir'] + '.partial')
    # a re-run succeeds
    result, run, server = go(monkeypatch, args)
    assert result['changed'] and os.path.isdir(args['data_dir'])


def test_pg_controldata_failure(env, monkeypatch):
    args = args_for(env)
    make_cluster(args['data_dir'])
    run = runner(pg_controldata=(1, '', 'pg_controldata: error: could not open file'))
    result, run, server = go(monkeypatch, args, run=run)
    assert result['failed'] and 'pg_controldata failed on %s' % args['data_dir'] in result['msg']


def test_missing_pg_version_after_clone(env, monkeypatch):
    def no_version(argv, kw):
        fake_pg_basebackup()(argv, kw)
        os.unlink(os.path.join(argv[argv.index('-D') + 1], 'PG_VERSION'))
        return 0, '', ''
    args = args_for(env)
    result, run, server = go(monkeypatch, args, run=runner(pg_basebackup=no_version))
    assert result['failed'] and 'no PG_VERSION' in result['msg']
    assert not os.path.exists(args['data_dir'] + '.partial')


def test_psycopg2_missing(env, monkeypatch):
    monkeypatch.setattr(basebackup, 'psycopg2', None)
    result, run, server = go(monkeypatch, args_for(env))
    assert result['failed'] and 'psycopg2' in result['msg']


def test_nothing_secret_is_logged(env, monkeypatch):
    result, run, server = go(monkeypatch, args_for(env))
    assert result['_logs'], 'the invocation is logged'
    assert PASSWORD not in result.text


def test_chown_failure_removes_partial(env, monkeypatch):
    def broken(path, owner):
        raise OSError(1, 'Operation not permitted')
    monkeypatch.setattr(basebackup, 'chown_tree', broken)
    args = args_for(env)
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and 'chown to postgres failed for the clone' in result['msg']
    assert 'Operation not permitted' in result['msg'] and 'was not changed' in result['msg']
    assert not os.path.exists(args['data_dir'] + '.partial') and not os.path.exists(args['data_dir'])


def test_rename_failure_after_move_aside_says_where_the_old_data_is(env, monkeypatch):
    args = args_for(env, force=True)
    make_cluster(args['data_dir'], sysid=OTHER_SYSID)
    real_rename = os.rename
    calls = []

    def rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError(28, 'No space left on device')
        return real_rename(src, dst)
    monkeypatch.setattr(basebackup.os, 'rename', rename)
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and 'moving it into place failed for the clone' in result['msg']
    assert result['moved_aside'] in result['msg'] and os.path.isdir(result['moved_aside'])
    assert not os.path.exists(args['data_dir'] + '.partial')


def test_stale_partial_that_cannot_be_removed(env, monkeypatch):
    args = args_for(env)
    os.makedirs(args['data_dir'] + '.partial')

    def rmtree(path, ignore_errors=False):
        raise OSError(13, 'Permission denied')
    monkeypatch.setattr(basebackup.shutil, 'rmtree', rmtree)
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and 'cannot remove %s.partial left by an interrupted clone' % args['data_dir'] in result['msg']
    assert run.argvs('pg_basebackup') == []


def test_parent_that_cannot_be_created(env, monkeypatch):
    blocker = env / 'file'
    blocker.write_text('x')
    args = args_for(env, data_dir=str(blocker / 'sub' / 'standby'))
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and 'cannot create the parent directory' in result['msg']


def test_unreadable_data_dir(env, monkeypatch):
    args = args_for(env)
    os.makedirs(args['data_dir'])

    def listdir(path):
        raise OSError(13, 'Permission denied')
    monkeypatch.setattr('ansible_collections.pgstream.replication.plugins.module_utils.datadir.os.listdir', listdir)
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and 'cannot read %s' % args['data_dir'] in result['msg']


def test_passfile_directory_missing(env, monkeypatch):
    args = args_for(env, passfile_path=str(env / 'nohome' / '.pgpass'))
    result, run, server = go(monkeypatch, args)
    assert result['failed'] and 'directory %s does not exist' % (env / 'nohome') in result['msg']


def test_passfile_unreadable(env, monkeypatch):
    args = args_for(env, passfile_path=str(env / 'pgpassdir'))
    os.makedirs(str(env / 'pgpassdir'))  # a directory cannot be read as a file
    result, run, server = go(monkeypatch, args, check_mode=True)
    assert result['failed'] and 'cannot read the password file' in result['msg']
