# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils import waldump

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'fixtures',
                        'pg_waldump')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


class FakeModule:
    def __init__(self, rc=0, out='', err=''):
        self.result = (rc, out, err)
        self.calls = []

    def run_command(self, args, **kw):
        self.calls.append((args, kw))
        return self.result


# (fixture, --end given to pg_waldump, last record type, its lsn, nothing but padding after it)
CASES = [
    ('shutdown-tail-pg15.txt', '0/1527138', 'CHECKPOINT_SHUTDOWN', '0/15270C0', True),
    ('shutdown-tail-pg13.txt', '0/15F10D8', 'CHECKPOINT_SHUTDOWN', '0/15F1060', True),
    ('shutdown-tail-pg17.txt', '0/152F6B0', 'CHECKPOINT_SHUTDOWN', '0/152F638', True),
    ('commit-tail-pg15.txt', '0/15270C0', 'COMMIT', '0/1527098', True),
    ('commit-tail-pg13.txt', '0/15F1060', 'COMMIT', '0/15F1038', True),
    ('commit-tail-pg17.txt', '0/152F638', 'COMMIT', '0/152F610', True),
    # the shutdown checkpoint followed by more WAL than padding: not the end of a clean shutdown
    ('shutdown-tail-pg15.txt', '0/1528000', 'CHECKPOINT_SHUTDOWN', '0/15270C0', False),
]


@pytest.mark.parametrize('name, end, kind, lsn, at_end', CASES)
def test_last_record_of_real_output(name, end, kind, lsn, at_end):
    module = FakeModule(out=fixture(name))
    record = waldump.last_record(module, '/usr/lib/postgresql/15/bin', '/pg/pg_wal', 1, end)
    assert record['type'] == kind and record['lsn'] == lsn
    assert record['ends_at_end'] is at_end
    assert waldump.is_clean_shutdown_end(record) is (at_end and kind == 'CHECKPOINT_SHUTDOWN')
    argv, kw = module.calls[0]
    assert argv[:6] == ['/usr/lib/postgresql/15/bin/pg_waldump', '--path', '/pg/pg_wal', '--timeline', '1', '--start']
    assert argv[-2:] == ['--end', end]
    assert kw['environ_update']['LC_ALL'] == 'C'


def test_every_record_line_is_parsed():
    records = waldump.parse_records(fixture('shutdown-tail-pg13.txt'))
    assert len(records) == 12
    assert records[-1] == dict(rmgr='XLOG', type='CHECKPOINT_SHUTDOWN', lsn='0/15F1060', end='0/15F10D2', tot_len=114)


@pytest.mark.parametrize('end, segment_size, start', [
    ('0/1527138', waldump.SEGMENT, '0/1524000'),     # one page before the page holding the last byte
    ('0/1526000', waldump.SEGMENT, '0/1522000'),     # end on a page boundary: the last byte is on the page before
    ('0/1001000', waldump.SEGMENT, '0/1000000'),     # never before the start of the segment
    ('1/0', waldump.SEGMENT, '0/FFFFC000'),           # the last byte in the segment before the end
    ('0/400100', 1024 * 1024, '0/400000'),           # 1 MB segments
])
def test_tail_start(end, segment_size, start):
    assert waldump.tail_start(end, segment_size) == start


@pytest.mark.parametrize('result, expected', [
    ((1, '', 'pg_waldump: error: could not find file "000000010000000000000001": No such file or directory'),
     {'error': 'pg_waldump: error: could not find file "000000010000000000000001": No such file or directory (rc=1)'}),
    ((0, '', ''), None),
])
def test_nothing_readable(result, expected):
    module = FakeModule(*result)
    record = waldump.last_record(module, '/b', '/pg/pg_wal', 2, '0/3000000')
    assert record == expected
    assert not waldump.is_clean_shutdown_end(record)


def test_an_error_after_records_still_gives_the_last_record():
    # without --end pg_waldump reads on to the first invalid record and exits 1
    out = fixture('shutdown-tail-pg15.txt')
    module = FakeModule(1, out, 'pg_waldump: error: error in WAL record at 0/15270C0: invalid record length at 0/1527138')
    assert waldump.is_clean_shutdown_end(waldump.last_record(module, '/b', '/w', 1, '0/1527138'))
