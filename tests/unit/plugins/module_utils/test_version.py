# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils import version


class FailJson(Exception):
    pass


class FakeModule:
    def __init__(self, path_bins=None):
        self.path_bins = path_bins or {}

    def fail_json(self, **kw):
        raise FailJson(kw)

    def get_bin_path(self, name):
        return self.path_bins.get(name)


@pytest.mark.parametrize('num, major', [
    (150004, 15), ('150004', 15), (100000, 10), (110022, 11), (120001, 12), (170000, 17),
    (90624, '9.6'), (90500, '9.5'), (80423, '8.4'),
])
def test_major_from_num(num, major):
    assert version.major_from_num(num) == major


@pytest.mark.parametrize('bad', [None, '', 'x', 999, -1, '15.4'])
def test_major_from_num_rejects(bad):
    with pytest.raises(ValueError):
        version.major_from_num(bad)


@pytest.mark.parametrize('major, key', [('9.6', (9, 6)), (15, (15,)), ('15', (15,))])
def test_major_key(major, key):
    assert version.major_key(major) == key


@pytest.mark.parametrize('content, major', [('15\n', '15'), ('9.6\n', '9.6'), ('', None)])
def test_data_dir_major(tmp_path, content, major):
    (tmp_path / 'PG_VERSION').write_text(content)
    assert version.data_dir_major(str(tmp_path)) == major


def test_data_dir_major_absent(tmp_path):
    assert version.data_dir_major(str(tmp_path / 'nope')) is None


def _make_bindir(path):
    path.mkdir(parents=True)
    pg_ctl = path / 'pg_ctl'
    pg_ctl.write_text('#!/bin/sh\n')
    pg_ctl.chmod(0o755)
    return str(path)


def test_find_bindir_explicit(tmp_path):
    assert version.find_bindir(FakeModule(), major=15, bindir=str(tmp_path)) == str(tmp_path)


def test_find_bindir_explicit_missing(tmp_path):
    with pytest.raises(FailJson) as e:
        version.find_bindir(FakeModule(), bindir=str(tmp_path / 'nope'))
    assert 'nope' in e.value.args[0]['msg']


def test_find_bindir_search_order(tmp_path, monkeypatch):
    deb = _make_bindir(tmp_path / 'deb' / '15' / 'bin')
    rpm = _make_bindir(tmp_path / 'rpm' / 'bin')
    monkeypatch.setattr(version, 'candidate_bindirs', lambda major=None: [str(tmp_path / 'missing'), deb, rpm])
    assert version.find_bindir(FakeModule(), major=15) == deb


def test_find_bindir_path_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(version, 'candidate_bindirs', lambda major=None: [str(tmp_path / 'missing')])
    module = FakeModule({'pg_ctl': '/opt/pg/bin/pg_ctl'})
    assert version.find_bindir(module, major=15) == '/opt/pg/bin'


def test_find_bindir_not_found(tmp_path, monkeypatch):
    monkeypatch.setattr(version, 'candidate_bindirs', lambda major=None: [str(tmp_path / 'missing')])
    with pytest.raises(FailJson) as e:
        version.find_bindir(FakeModule(), major=13)
    msg = e.value.args[0]['msg']
    assert 'PostgreSQL 13 binaries' in msg and 'missing' in msg and 'bindir' in msg


def test_candidate_bindirs_with_major():
    assert version.candidate_bindirs(14) == ['/usr/lib/postgresql/14/bin', '/usr/pgsql-14/bin', '/usr/local/pgsql/bin']


def test_candidate_bindirs_newest_first(monkeypatch):
    dirs = {'/usr/lib/postgresql/*/bin': ['/usr/lib/postgresql/9.6/bin', '/usr/lib/postgresql/15/bin',
                                          '/usr/lib/postgresql/11/bin', '/usr/lib/postgresql/junk/bin'],
            '/usr/pgsql-*/bin': ['/usr/pgsql-13/bin']}
    monkeypatch.setattr(version.glob, 'glob', lambda pattern: dirs[pattern])
    assert version.candidate_bindirs() == ['/usr/lib/postgresql/15/bin', '/usr/pgsql-13/bin', '/usr/lib/postgresql/11/bin',
                                           '/usr/lib/postgresql/9.6/bin', '/usr/local/pgsql/bin']


def test_real_bindir_if_installed():
    if not os.path.isdir('/usr/lib/postgresql/15/bin'):
        pytest.skip('PostgreSQL 15 not installed here')
    assert version.find_bindir(FakeModule(), major=15) == '/usr/lib/postgresql/15/bin'
