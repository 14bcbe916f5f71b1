# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils.history import (
    history_file_name, parse_history, timeline_start)

# as PostgreSQL 15 writes pg_wal/00000003.history (timeline.c: "%u\t%X/%X\t%s\n", a blank line between entries)
REAL = '1\t0/5000148\tno recovery target specified\n\n2\t0/3A000000\tno recovery target specified\n'


@pytest.mark.parametrize('text, entries, start', [
    (REAL, [(1, '0/5000148'), (2, '0/3A000000')], '0/3A000000'),
    ('# made by hand\n1\t0/5000148\tbefore 2000-01-01 00:00:00+00\n', [(1, '0/5000148')], '0/5000148'),
    # the parent need not be the timeline just below (a history file of timeline 7 branching from 4)
    ('1\t0/5000148\tx\n4\t2/a0\tx\n', [(1, '0/5000148'), (4, '2/A0')], '2/A0'),
    ('', [], None),
    (None, [], None),
])
def test_parse(text, entries, start):
    assert parse_history(text) == entries
    assert timeline_start(text) == start


@pytest.mark.parametrize('text', ['garbage\n', '1 0/5000148\nx\n', '1\tnot-an-lsn\treason\n'])
def test_bad_lines(text):
    with pytest.raises(ValueError, match='not a timeline history line'):
        timeline_start(text)


@pytest.mark.parametrize('timeline, name', [(2, 'pg_wal/00000002.history'), (0x1A, 'pg_wal/0000001A.history'),
                                            ('3', 'pg_wal/00000003.history')])
def test_file_name(timeline, name):
    assert history_file_name(timeline) == name


@pytest.mark.parametrize('timeline', [0, -1, 1 << 32])
def test_file_name_bad(timeline):
    with pytest.raises(ValueError, match='invalid timeline'):
        history_file_name(timeline)
