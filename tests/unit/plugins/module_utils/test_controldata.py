# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils import controldata

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'fixtures',
                        'pg_controldata')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


class FailJson(Exception):
    pass


class FakeModule:
    def __init__(self, rc=0, out='', err=''):
        self.result = (rc, out, err)
        self.calls = []

    def run_command(self, args, **kw):
        self.calls.append((args, kw))
        return self.result

    def fail_json(self, **kw):
        raise FailJson(kw)


# Real output of PostgreSQL 15's pg_controldata (Debian 12), captured from a running and a stopped primary.
@pytest.mark.parametrize('name, state', [
    ('pg15_in_production.txt', 'in production'),
    ('pg15_shut_down.txt', 'shut down'),
    ('pg15_in_archive_recovery.txt', 'in archive recovery'),
])
def test_parse_real_output(name, state):
    data = controldata.parse(fixture(name))
    assert data['system_identifier'] == '7711330958549827612'
    assert data['cluster_state'] == state
    assert isinstance(data['timeline'], int) and data['timeline'] >= 1
    assert data['data_checksums'] is True
    assert data['wal_log_hints'] is False
    assert data['full_page_writes'] is True
    assert data['raw']['Database block size'] == '8192'
    assert data['raw']["Latest checkpoint's oldestCommitTsXid"] == '0'
    for key in ('checkpoint_lsn', 'redo_lsn', 'min_recovery_end_lsn'):
        assert '/' in data[key]


def test_parse_in_production_values():
    data = controldata.parse(fixture('pg15_in_production.txt'))
    assert data['timeline'] == 1
    assert data['checkpoint_lsn'] == '0/1741570'
    assert data['redo_lsn'] == '0/1741570'
    assert data['min_recovery_end_lsn'] == '0/0'
    assert data['raw']['pg_control last modified'] == 'Mon Nov 23 11:42:36 2026'


@pytest.mark.parametrize('text, key, value', [
    ('Database system identifier: 1\nwal_log_hints setting: on\n', 'wal_log_hints', True),
    ('Database system identifier: 1\nData page checksum version: 0\n', 'data_checksums', False),
    ('Database system identifier: 1\n', 'data_checksums', False),
    ("Database system identifier: 1\nLatest checkpoint's full_page_writes: off\n", 'full_page_writes', False),
    ('Database system identifier: 1\n', 'timeline', None),
])
def test_parse_flags(text, key, value):
    assert controldata.parse(text)[key] == value


@pytest.mark.parametrize('text', ['', 'garbage', 'Datenbanksystemidentifikation: 1'])
def test_parse_rejects_other_text(text):
    with pytest.raises(ValueError):
        controldata.parse(text)


def test_parse_rejects_bad_timeline():
    with pytest.raises(ValueError):
        controldata.parse("Database system identifier: 1\nLatest checkpoint's TimeLineID: x\n")


def test_read_without_pg_control(tmp_path):
    module = FakeModule()
    assert controldata.read(module, str(tmp_path), '/usr/bin') is None
    assert module.calls == []


def _cluster(tmp_path):
    (tmp_path / 'global').mkdir()
    (tmp_path / 'global' / 'pg_control').write_bytes(b'\0' * 16)
    return str(tmp_path)


def test_read_runs_pg_controldata_in_c_locale(tmp_path):
    module = FakeModule(0, fixture('pg15_shut_down.txt'))
    data_dir = _cluster(tmp_path)
    data = controldata.read(module, data_dir, '/usr/lib/postgresql/15/bin')
    assert data['cluster_state'] == 'shut down'
    args, kw = module.calls[0]
    assert args == ['/usr/lib/postgresql/15/bin/pg_controldata', '-D', data_dir]
    assert kw['environ_update']['LC_ALL'] == 'C'


def test_read_fails_on_error(tmp_path):
    module = FakeModule(1, '', 'pg_controldata: error: could not open file')
    with pytest.raises(FailJson) as e:
        controldata.read(module, _cluster(tmp_path), '/bin')
    assert 'could not open file' in e.value.args[0]['msg'] and str(tmp_path) in e.value.args[0]['msg']


def test_read_fails_on_unparsable_output(tmp_path):
    with pytest.raises(FailJson) as e:
        controldata.read(FakeModule(0, 'weird'), _cluster(tmp_path), '/bin')
    assert 'cannot parse' in e.value.args[0]['msg']
