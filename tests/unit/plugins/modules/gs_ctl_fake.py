# -*- coding: utf-8 -*-
"""A scripted gs_ctl for the gs_ctl_* module tests: answers per subcommand come from real published
outputs (tests/unit/fixtures/gs_ctl/, SOURCES.md) or from openGauss's format strings (pg_ctl.cpp)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.pgstream.replication.plugins.module_utils import gs_ctl as gs_ctl_utils
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_cmd import FakeRunner, run_module

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'gs_ctl')
LOG = '[2025-01-01 10:00:00.000][4242][][gs_ctl]: '
NO_PID_FILE = (1, LOG + ' PID file "/data/postmaster.pid" does not exist\n' + LOG + 'Is server running?\n', '')


def fixture(name):
    with open(os.path.join(FIXTURES, name), 'rb') as handle:
        return handle.read().decode('utf-8')


def ok(name):
    return (0, fixture(name), '')


class FakeClock(object):
    """time.time/time.sleep without waiting."""

    def __init__(self):
        self.now = 1000.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += max(seconds, 0.1)


class GsCtlScript(object):
    """Handler for FakeRunner: answers[subcommand] is a list of (rc, out, err) or callables(argv) -> (rc, out, err);
    each call takes the next answer, the last one repeats. Calls are recorded in order."""

    def __init__(self, **answers):
        self.answers = dict((k, list(v)) for k, v in answers.items())
        self.calls = []

    def __call__(self, argv, kw):
        self.calls.append(list(argv))
        queue = self.answers.get(argv[1])
        if not queue:
            raise AssertionError('unexpected gs_ctl call: %s' % argv)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(argv) if callable(answer) else answer

    def commands(self):
        return [c[1] for c in self.calls]

    def without_queries(self):
        return [c[1:] for c in self.calls if c[1] != 'query']


def run(module, monkeypatch, tmp_path, args, script, check_mode=False, clock=None, euid=1000):
    """Run a gs_ctl_* module against the script; gs_ctl is a real (empty) executable in tmp_path."""
    gs = tmp_path / 'gs_ctl'
    if not gs.exists():
        gs.write_text(u'#!/bin/sh\nexit 99\n')
        gs.chmod(0o755)
    monkeypatch.setattr(gs_ctl_utils.os, 'geteuid', lambda: euid)
    monkeypatch.setattr(gs_ctl_utils.pwd, 'getpwnam', lambda name: (name, 'x', 1001, 1001, '', '/home/' + name, '/bin/sh'))
    monkeypatch.delenv('GAUSSHOME', raising=False)
    if clock is not None:
        monkeypatch.setattr(module, 'time', clock)
    full = dict(data_dir='/data', gs_ctl_path=str(gs), owner='omm')
    full.update(args)
    runner = FakeRunner({'gs_ctl': script})
    result = run_module(module, full, check_mode=check_mode, runner=runner, monkeypatch=monkeypatch)
    return result, runner
