# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import pwd

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils import singleuser


class FailJson(Exception):
    pass


class FakeModule:
    def __init__(self, runuser='/usr/sbin/runuser', result=(0, '', '')):
        self.runuser = runuser
        self.result = result
        self.calls = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return self.runuser if name == 'runuser' else None

    def run_command(self, args, **kw):
        self.calls.append((args, kw))
        return self.result

    def fail_json(self, msg, **kw):
        raise FailJson(msg)


@pytest.mark.parametrize('text, expected', [
    ("data_directory = '/var/lib/postgresql/15/main'\t\t# use data in another directory\n", '/var/lib/postgresql/15/main'),
    ("#data_directory = '/x'\n", None),
    ("data_directory='/a'\ndata_directory = '/b'\n", '/b'),
    ("  data_directory /srv/pg  # bare value\n", '/srv/pg'),
    ("data_directory = '/srv/it''s'\n", "/srv/it's"),
    ("data_directory_x = '/a'\n", None),
    ('', None),
])
def test_parse_data_directory(text, expected):
    assert singleuser.parse_data_directory(text) == expected


def test_find_config_file(tmp_path):
    data = tmp_path / 'data'
    data.mkdir()
    etc = tmp_path / 'etc'
    for major, cluster, ddir in (('13', 'main', '/elsewhere'), ('15', 'main', str(data)), ('15', 'other', str(data) + 'x')):
        (etc / major / cluster).mkdir(parents=True)
        (etc / major / cluster / 'postgresql.conf').write_text(u"port = 5432\ndata_directory = '%s'\n" % ddir)
    pattern = str(etc / '*' / '*' / 'postgresql.conf')
    assert singleuser.find_config_file(str(data), pattern) == str(etc / '15' / 'main' / 'postgresql.conf')
    assert singleuser.find_config_file(str(data) + '/', pattern) == str(etc / '15' / 'main' / 'postgresql.conf')
    assert singleuser.find_config_file(str(tmp_path / 'nothing'), pattern) is None
    (data / 'postgresql.conf').write_text(u'')
    assert singleuser.find_config_file(str(data), pattern) == str(data / 'postgresql.conf')


def test_as_owner(monkeypatch):
    monkeypatch.setattr(singleuser.os, 'geteuid', lambda: 0)
    assert singleuser.as_owner(FakeModule(), 'postgres', ['/bin/pg_ctl', 'stop']) == \
        ['/usr/sbin/runuser', '-u', 'postgres', '--', '/bin/pg_ctl', 'stop']
    with pytest.raises(FailJson, match='runuser was not found'):
        singleuser.as_owner(FakeModule(runuser=None), 'postgres', ['/bin/pg_ctl'])
    monkeypatch.setattr(singleuser.os, 'geteuid', lambda: 1000)
    assert singleuser.as_owner(FakeModule(), 'postgres', ['/bin/pg_ctl']) == ['/bin/pg_ctl']


def test_owner_entry(monkeypatch):
    entry = pwd.struct_passwd(('pg', 'x', 1000, 1000, '', '/home/pg', '/bin/sh'))
    monkeypatch.setattr(singleuser.pwd, 'getpwnam', lambda name: entry)
    monkeypatch.setattr(singleuser.os, 'geteuid', lambda: 1001)
    with pytest.raises(FailJson, match='must run as root or as the owner pg'):
        singleuser.owner_entry(FakeModule(), 'pg')
    monkeypatch.setattr(singleuser.os, 'geteuid', lambda: 1000)
    assert singleuser.owner_entry(FakeModule(), 'pg') is entry


def test_owner_passfile():
    me = pwd.getpwuid(os.geteuid())
    with singleuser.owner_passfile(me, 'pg2', 5432, 'rewinder', 'p:w\\d') as path:
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert os.stat(path).st_uid == me.pw_uid
        with open(path) as f:
            assert f.read() == 'pg2:5432:*:rewinder:p\\:w\\\\d\n'
    assert not os.path.exists(path)


def test_signals_aside(tmp_path):
    d = tmp_path
    (d / 'standby.signal').write_text(u'')
    (d / 'recovery.conf').write_text(u"standby_mode = 'on'\n")
    with singleuser.signals_aside(FakeModule(), str(d)) as moved:
        assert moved == ['standby.signal', 'recovery.conf']
        assert singleuser.signal_files(str(d)) == []
        assert (d / 'standby.signal.pgstream-aside').exists()
    assert singleuser.signal_files(str(d)) == ['standby.signal', 'recovery.conf']
    assert (d / 'recovery.conf').read_text() == u"standby_mode = 'on'\n"


def test_signals_aside_puts_back_on_error_and_recovers_leftovers(tmp_path):
    d = tmp_path
    (d / 'recovery.signal.pgstream-aside').write_text(u'')  # left by an interrupted run
    (d / 'standby.signal').write_text(u'')
    with pytest.raises(RuntimeError):
        with singleuser.signals_aside(FakeModule(), str(d)) as moved:
            assert moved == ['standby.signal', 'recovery.signal']
            raise RuntimeError('boom')
    assert sorted(os.listdir(str(d))) == ['recovery.signal', 'standby.signal']


def test_crash_recover(monkeypatch, tmp_path):
    monkeypatch.setattr(singleuser.os, 'geteuid', lambda: 0)
    (tmp_path / 'standby.signal').write_text(u'')
    seen = []
    module = FakeModule(result=(0, 'PostgreSQL stand-alone backend 15.8\nbackend> ', ''))
    orig = module.run_command

    def run_command(args, **kw):
        seen.append(singleuser.signal_files(str(tmp_path)))
        return orig(args, **kw)
    module.run_command = run_command
    rc, out, err, argv, moved = singleuser.crash_recover(module, '/usr/lib/postgresql/15/bin', str(tmp_path),
                                                         '/etc/postgresql/15/main/postgresql.conf', 'postgres')
    assert rc == 0 and moved == ['standby.signal'] and seen == [[]]
    assert argv == ['/usr/sbin/runuser', '-u', 'postgres', '--', '/usr/lib/postgresql/15/bin/postgres', '--single', '-D',
                    str(tmp_path), '-c', 'config_file=/etc/postgresql/15/main/postgresql.conf', '-c',
                    'wal_keep_size=1048576', 'template1']
    args, kw = module.calls[0]
    assert args == argv and kw['data'] == '\n' and kw['environ_update']['LC_ALL'] == 'C' and kw['cwd'] == '/'
    assert singleuser.signal_files(str(tmp_path)) == ['standby.signal']


@pytest.mark.parametrize('major, setting', [('10', 'wal_keep_segments=65536'), ('12', 'wal_keep_segments=65536'),
                                            ('13', 'wal_keep_size=1048576'), (18, 'wal_keep_size=1048576'),
                                            (None, 'wal_keep_size=1048576')])
def test_keep_wal_setting(major, setting):
    assert singleuser.keep_wal_setting(major) == setting
