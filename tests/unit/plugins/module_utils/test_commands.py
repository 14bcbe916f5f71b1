# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import stat
import subprocess
import time

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils import commands


class RecordingModule:
    def __init__(self, rc=0, out='', err=''):
        self.calls = []
        self.result = (rc, out, err)

    def run_command(self, args, **kw):
        self.calls.append((args, kw))
        return self.result


@pytest.mark.parametrize('text, secrets, expected', [
    ('password=s3cret', ['s3cret'], 'password=********'),
    ('a s3cret b s3cret', ('s3cret',), 'a ******** b ********'),
    ('nothing', ['s3cret'], 'nothing'),
    ('abcdef', ['abc', 'abcdef'], '********'),
    ('keep', ['', None], 'keep'),
    (None, ['x'], None),
    (42, ['4'], '********2'),
])
def test_redact(text, secrets, expected):
    assert commands.redact(text, secrets) == expected


def test_run_passes_argv_and_env_and_redacts():
    module = RecordingModule(1, 'out s3cret', 'err s3cret')
    rc, out, err = commands.run(module, ['/bin/pg', '-D', 3], secrets=['s3cret'], env={'PGPASSFILE': '/x'}, cwd='/tmp',
                                data='in')
    assert (rc, out, err) == (1, 'out ********', 'err ********')
    args, kw = module.calls[0]
    assert args == ['/bin/pg', '-D', '3']
    assert kw == {'check_rc': False, 'environ_update': {'PGPASSFILE': '/x'}, 'cwd': '/tmp', 'data': 'in'}


def test_run_refuses_a_shell_string():
    with pytest.raises(TypeError):
        commands.run(RecordingModule(), 'pg_ctl -D x')


@pytest.mark.parametrize('args, line', [
    (('db1', 5432, 'replicator', 'pw'), 'db1:5432:*:replicator:pw\n'),
    (('', None, 'u', 'p:w\\x'), '*:*:*:u:p\\:w\\\\x\n'),
    (('h', '5433', 'u', 'pw', 'replication'), 'h:5433:replication:u:pw\n'),
    (('h', 1, None, None), 'h:1:*:*:\n'),
])
def test_pgpass_line(args, line):
    assert commands.pgpass_line(*args) == line


def test_pgpass_file_is_private_and_removed(tmp_path):
    module = RecordingModule()
    module.tmpdir = str(tmp_path)
    with commands.pgpass_file(module, 'db1', 5432, 'replicator', 'pa:ss') as path:
        assert os.path.dirname(path) == str(tmp_path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path) as f:
            assert f.read() == 'db1:5432:*:replicator:pa\\:ss\n'
    assert not os.path.exists(path)


def test_pgpass_file_removed_on_error(tmp_path):
    module = RecordingModule()
    module.tmpdir = str(tmp_path)
    with pytest.raises(SystemExit):
        with commands.pgpass_file(module, 'h', 1, 'u', 'p') as path:
            raise SystemExit(1)
    assert not os.path.exists(path)
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize('before, after', [
    ('', 'h:5432:*:u:new\n'),
    ('h:5432:*:u:old\n', 'h:5432:*:u:new\n'),
    ('# c\nother:1:*:x:y\nh:5432:*:u:old\nh:5432:*:u:dup', '# c\nother:1:*:x:y\nh:5432:*:u:new\n'),
    ('h:5433:*:u:old', 'h:5433:*:u:old\nh:5432:*:u:new\n'),
    ('h:5432:*:u:new\n', 'h:5432:*:u:new\n'),
])
def test_pgpass_merge(before, after):
    assert commands.pgpass_merge(before, 'h', 5432, 'u', 'new') == after


def test_pgpass_merge_escaped_fields():
    before = 'h:5432:*:u\\:x:old\n'
    assert commands.pgpass_merge(before, 'h', 5432, 'u:x', 'new') == 'h:5432:*:u\\:x:new\n'


# run_until runs real processes: a shell that prints, then works on (sleeps) like pg_rewind --dry-run's fetch.
STOP = re.compile(r'need to copy \d+ MB')


def test_run_until_stops_the_whole_process_group_at_the_line(tmp_path):
    marker = tmp_path / 'child-finished'
    # the "work" runs in a grandchild (like pg_rewind under timeout/runuser): it must be stopped too
    script = ('echo "servers diverged at WAL location 0/5000000 on timeline 1" >&2; echo "need to copy 7 MB (total 9 MB)"; '
              'sh -c "sleep 30; touch %s" & wait' % marker)
    started = time.time()
    rc, out, stopped = commands.run_until(RecordingModule(), ['sh', '-c', script], STOP, secrets=['9 MB'])
    assert stopped and rc is None
    assert time.time() - started < 20
    assert out == 'servers diverged at WAL location 0/5000000 on timeline 1\nneed to copy 7 MB (total ********)\n'
    time.sleep(0.5)
    assert not marker.exists()
    assert subprocess.run(['pgrep', '-f', 'sleep 30; touch %s' % marker], check=False).returncode == 1


@pytest.mark.parametrize('script, rc', [
    ('echo "no rewind required" >&2; exit 0', 0),
    ('echo "pg_rewind: error: could not connect" >&2; exit 1', 1),
])
def test_run_until_without_the_line_waits_for_the_end(script, rc):
    got_rc, out, stopped = commands.run_until(RecordingModule(), ['sh', '-c', script], STOP, env={'LC_ALL': 'C'})
    assert (got_rc, stopped) == (rc, False)
    assert out == script.split('"')[1] + '\n'


def test_run_until_passes_env_and_cwd(tmp_path):
    rc, out, stopped = commands.run_until(RecordingModule(), ['sh', '-c', 'echo "$PGPASSFILE $(pwd)"'], STOP,
                                          env={'PGPASSFILE': '/p'}, cwd=str(tmp_path))
    assert (rc, out, stopped) == (0, '/p %s\n' % tmp_path, False)


def test_run_until_refuses_a_shell_string():
    with pytest.raises(TypeError):
        commands.run_until(RecordingModule(), 'sh -c true', STOP)
