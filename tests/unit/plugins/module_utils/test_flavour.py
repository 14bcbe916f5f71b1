# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for module_utils/flavour.py (both flavours behind one interface)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils.flavour import (
    FLAVOURS, Flavour, OpenGauss, PostgreSQL, get_flavour)
from ansible_collections.pgstream.replication.plugins.module_utils.gs_ctl_query import parse_query, summary

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'gs_ctl')
D = '/data'


def fixture(name):
    with open(os.path.join(FIXTURES, name), 'rb') as handle:
        return handle.read().decode('utf-8')


@pytest.mark.parametrize('name, cls', [
    ('postgresql', PostgreSQL), ('PostgreSQL', PostgreSQL), ('postgres', PostgreSQL), ('pg', PostgreSQL),
    ('opengauss', OpenGauss), (' openGauss ', OpenGauss), ('gauss', OpenGauss),
])
def test_get_flavour(name, cls):
    flavour = get_flavour(name)
    assert isinstance(flavour, cls) and isinstance(flavour, Flavour) and flavour.__class__.__name__ == cls.__name__


@pytest.mark.parametrize('name', ['mysql', '', None, 'mogdb'])
def test_get_flavour_unknown(name):
    with pytest.raises(ValueError, match='unknown database flavour'):
        get_flavour(name)


def test_flavours_listed():
    assert FLAVOURS == ('opengauss', 'postgresql')


def test_same_interface():
    pg, og = get_flavour('postgresql'), get_flavour('opengauss')
    for attr in ('name', 'display_name', 'ctl_program', 'default_owner', 'default_port', 'password_methods',
                 'role_from_status', 'start_argv', 'stop_argv', 'promote_argv', 'switchover_argv', 'build_argv',
                 'query_argv'):
        assert hasattr(pg, attr) and hasattr(og, attr), attr


def test_values():
    pg, og = get_flavour('postgresql'), get_flavour('opengauss')
    assert (pg.name, pg.default_owner, pg.default_port, pg.password_methods, pg.ctl_program) == (
        'postgresql', 'postgres', 5432, ('scram-sha-256', 'md5'), 'pg_ctl')
    assert (og.name, og.default_owner, og.default_port, og.password_methods, og.ctl_program) == (
        'opengauss', 'omm', 5432, ('sha256', 'md5'), 'gs_ctl')
    assert og.build_modes == ('full', 'incremental', 'auto', 'standby_full')


# ---- role_from_status -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('status, role', [
    ({'role': 'primary', 'in_recovery': False}, 'primary'),
    ({'role': 'standby'}, 'standby'),
    ({'in_recovery': True}, 'standby'),
    ({'in_recovery': False}, 'primary'),
    ({'role': None, 'in_recovery': None}, 'unknown'),   # replication_info on an unreachable, undecidable server
    ({'role': 'leader'}, 'unknown'),
    ({}, 'unknown'),
    (None, 'unknown'),
    ('primary', 'unknown'),
])
def test_postgresql_role_from_status(status, role):
    assert get_flavour('postgresql').role_from_status(status) == role


# real gs_ctl query outputs (tests/unit/fixtures/gs_ctl/SOURCES.md)
@pytest.mark.parametrize('name, role', [
    ('og1.0_primary_two_senders_oldlog.txt', 'primary'),
    ('og1.0_standby_need_repair_connecting_oldlog.txt', 'standby'),
    ('og3.0_standby_receiver.txt', 'standby'),
    ('mogdb_cascade_standby.txt', 'cascade_standby'),
    ('docs_dorado_main_standby.txt', 'standby'),
    ('og1.1_primary_no_standby.txt', 'primary'),
])
def test_opengauss_role_from_status_fixtures(name, role):
    og = get_flavour('opengauss')
    parsed = parse_query(fixture(name))
    assert og.role_from_status(parsed) == role
    assert og.role_from_status(summary(parsed)) == role
    assert og.role_from_status(parsed['ha_state']) == role
    assert og.role_from_status(parsed['ha_state']['local_role']) == role


@pytest.mark.parametrize('status, role', [
    ('Normal', 'primary'), ('Pending', 'pending'), ('Unknown', 'unknown'), ('Secondary', 'unknown'), ('', 'unknown'),
    ({'role': 'standby'}, 'standby'), ({'local_role': 'Cascade Standby'}, 'cascade_standby'), ({}, 'unknown'),
    (None, 'unknown'), (['Primary'], 'unknown'), ({'ha_state': None}, 'unknown'),
])
def test_opengauss_role_from_status_values(status, role):
    assert get_flavour('opengauss').role_from_status(status) == role


# ---- argv ------------------------------------------------------------------------------------------------------

def test_opengauss_argv():
    og = get_flavour('opengauss')
    assert og.build_argv('gs_ctl', D, 'full') == ['gs_ctl', 'build', '-D', D, '-b', 'full', '-M', 'standby', '-w']
    assert og.build_argv('/og/bin/gs_ctl', D, 'auto', server_mode='cascade_standby', timeout=600, recv_timeout=300) == [
        '/og/bin/gs_ctl', 'build', '-D', D, '-b', 'auto', '-M', 'cascade_standby', '-r', '300', '-w', '-t', '600']
    assert og.switchover_argv('gs_ctl', D) == ['gs_ctl', 'switchover', '-D', D, '-m', 'fast', '-w']
    assert og.switchover_argv('gs_ctl', D, mode='smart', timeout=120) == [
        'gs_ctl', 'switchover', '-D', D, '-m', 'smart', '-w', '-t', '120']
    assert og.promote_argv('gs_ctl', D, timeout=60) == ['gs_ctl', 'failover', '-D', D, '-w', '-t', '60']
    assert og.start_argv('gs_ctl', D, 'standby') == ['gs_ctl', 'start', '-D', D, '-M', 'standby', '-w']
    assert og.start_argv('gs_ctl', D) == ['gs_ctl', 'start', '-D', D, '-w']
    assert og.stop_argv('gs_ctl', D, timeout=30) == ['gs_ctl', 'stop', '-D', D, '-m', 'fast', '-w', '-t', '30']
    assert og.query_argv('gs_ctl', D) == ['gs_ctl', 'query', '-D', D]


def test_postgresql_argv():
    pg = get_flavour('postgresql')
    ctl = '/usr/lib/postgresql/15/bin/pg_ctl'
    assert pg.promote_argv(ctl, D, timeout=60) == [ctl, 'promote', '-D', D, '-w', '-t', '60']
    assert pg.start_argv(ctl, D, 'standby') == [ctl, 'start', '-D', D, '-w']
    assert pg.start_argv(ctl, D) == [ctl, 'start', '-D', D, '-w']
    assert pg.stop_argv(ctl, D, mode='immediate') == [ctl, 'stop', '-D', D, '-m', 'immediate', '-w']
    assert pg.query_argv(ctl, D) == [ctl, 'status', '-D', D]


def test_postgresql_not_implemented():
    pg = get_flavour('postgresql')
    with pytest.raises(NotImplementedError, match='basebackup'):
        pg.build_argv('pg_ctl', D, 'full')
    with pytest.raises(NotImplementedError, match='promote'):
        pg.switchover_argv('pg_ctl', D)


@pytest.mark.parametrize('call, message', [
    (lambda og: og.build_argv('gs_ctl', D, 'cross_cluster_full'), 'build mode'),
    (lambda og: og.build_argv('gs_ctl', D, 'full', server_mode='primary'), 'server mode'),
    (lambda og: og.build_argv('gs_ctl', D, 'full', recv_timeout=0), 'recv_timeout'),
    (lambda og: og.build_argv('gs_ctl', D, 'full', timeout='60'), 'timeout'),
    (lambda og: og.build_argv('gs_ctl', D, 'full', timeout=True), 'timeout'),
    (lambda og: og.switchover_argv('gs_ctl', D, mode='immediate'), 'switchover mode'),
    (lambda og: og.start_argv('gs_ctl', D, 'master'), 'start mode'),
    (lambda og: og.stop_argv('gs_ctl', D, mode='smart'), 'stop mode'),
    (lambda og: get_flavour('postgresql').start_argv('pg_ctl', D, 'pending'), 'start mode'),
])
def test_argv_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(get_flavour('opengauss'))


def test_base_class_is_abstract():
    base = Flavour()
    for call in (lambda: base.role_from_status({}), lambda: base.start_argv('x', D), lambda: base.promote_argv('x', D),
                 lambda: base.switchover_argv('x', D), lambda: base.build_argv('x', D, 'full'),
                 lambda: base.query_argv('x', D)):
        with pytest.raises(NotImplementedError):
            call()
    assert repr(get_flavour('opengauss')) == "Flavour('opengauss')"
