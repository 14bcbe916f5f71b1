# -*- coding: utf-8 -*-
"""Helpers for the operation scenarios' testinfra tests (switchover, failover, rejoin-diverged).

They run on the controller: playbooks with ansible-playbook against the scenario's inventory, commands in
the containers with `podman exec`, and the writer probe (tests/tools/writer_probe.py) against the
containers' addresses on the podman network.
"""
from __future__ import absolute_import, division, print_function

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

__metaclass__ = type

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, 'writer_probe.py')
PG_MAJOR = os.environ.get('PGSTREAM_PG_MAJOR', '15')
PROBE_USER = 'pgstream_probe'


def inventory():
    return os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'inventory')


def scenario_file(name):
    return os.path.join(os.environ['MOLECULE_SCENARIO_DIRECTORY'], name)


def playbook(name, *extra):
    """Run pgstream.replication.<name> against the scenario's inventory; (process, {host: changed})."""
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_STDOUT_CALLBACK='default')
    started = time.time()
    proc = subprocess.run(['ansible-playbook', '-i', inventory(), 'pgstream.replication.' + name] + list(extra),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, env=env)
    proc.elapsed = time.time() - started
    print('--- %s %s: rc=%s in %.1f s' % (name, ' '.join(extra), proc.returncode, proc.elapsed))
    print(proc.stdout[-6000:])
    recap = dict(re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', proc.stdout, re.M))
    assert_no_pattern_warning(proc.stdout)
    return proc, recap


def assert_no_pattern_warning(output):
    """The playbooks name no host pattern that matches nothing: Ansible's warning about one is noise in every run."""
    found = sorted(set(re.findall(r'Could not match supplied host pattern, ignoring: (\S+)', output)))
    assert not found, 'the run warned about host patterns that match nothing: %s' % ', '.join(found)


def podman(*args, **kw):
    return subprocess.run(['podman'] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=kw.pop('check', True), **kw).stdout.strip()


def psql(container, sql, check=True):
    """Run SQL (from stdin, never argv) as postgres in the container; the output with -XAt."""
    proc = subprocess.run(['podman', 'exec', '-i', container, 'runuser', '-u', 'postgres', '--', 'psql', '-XAtq',
                           '-v', 'ON_ERROR_STOP=1'], input=sql, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError('%s: psql failed: %s' % (container, proc.stdout))
    return proc.stdout.strip()


def in_recovery(container):
    return psql(container, 'SELECT pg_is_in_recovery()') == 't'


def streaming_from(primary):
    """application_names streaming from a server."""
    out = psql(primary, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1")
    return out.split() if out else []


def remove_old_wal(container, table, switches=4):
    """Set wal_keep_size = 0 on a primary (reset_wal_keep_size sets it back), then write a row to table and switch WAL
    segments switches times, and checkpoint twice: the server then keeps only the WAL its slots hold."""
    psql(container, 'ALTER SYSTEM SET wal_keep_size = 0')
    psql(container, 'SELECT pg_reload_conf()')
    for i in range(switches):
        psql(container, 'CREATE TABLE IF NOT EXISTS %s (i int); INSERT INTO %s VALUES (%d); SELECT pg_switch_wal()'
             % (table, table, i))
    psql(container, 'CHECKPOINT')
    psql(container, 'CHECKPOINT')


def reset_wal_keep_size(container):
    """Back to the role's wal_keep_size (the WAL removed meanwhile stays removed)."""
    psql(container, 'ALTER SYSTEM RESET wal_keep_size')
    psql(container, 'SELECT pg_reload_conf()')


def slot_starts_before_switch(container, slot):
    """Whether the slot's restart_lsn is at or before the switch point of the server's current timeline (the last line
    of its newest history file): (answer, restart_lsn, switch point). A slot created on a standby before its promotion
    starts at its last restartpoint, before the switch; one created after the promotion starts after it."""
    tli = int(psql(container, 'SELECT timeline_id FROM pg_control_checkpoint()'))
    history = podman('exec', container, 'cat', '/var/lib/postgresql/%s/main/pg_wal/%08X.history' % (PG_MAJOR, tli))
    switch = history.strip().splitlines()[-1].split()[1]
    restart = psql(container, "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = '%s'" % slot)
    assert restart, 'no slot %s on %s' % (slot, container)
    return psql(container, "SELECT '%s'::pg_lsn <= '%s'::pg_lsn" % (restart, switch)) == 't', restart, switch


def wait_for(predicate, timeout=60, what='condition'):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except AssertionError:
            pass
        time.sleep(0.5)
    raise AssertionError('timed out after %s s waiting for %s' % (timeout, what))


def start_killed(container, network, peers, timeout=30):
    """`podman start` a container that was killed, then wait until every peer resolves its name.

    podman's DNS drops a container's name when it is killed and adds it again when it starts. In one CI run (switchover
    scenario, after the target was killed during its early promotion and started again) a peer then got "could not
    translate host name ... Name or service not known" for it, in a test that came seconds later. So: 10 s for the
    name to resolve, else the container is reconnected to the network (which registers the name again) and given
    `timeout` more seconds. What happened is printed."""
    podman('start', container)

    def resolved():
        return all(subprocess.run(['podman', 'exec', peer, 'getent', 'hosts', container], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, check=False).returncode == 0 for peer in peers)
    started = time.time()
    while time.time() < started + 10:
        if resolved():
            return
        time.sleep(0.5)
    print('--- %s: its name did not resolve from %s 10 s after podman start; reconnecting it to %s'
          % (container, ', '.join(peers), network))
    ip = address(container, network)
    podman('network', 'disconnect', network, container)
    podman('network', 'connect', '--ip', ip, network, container)
    wait_for(resolved, timeout, "%s's name to resolve from %s" % (container, ', '.join(peers)))


def address(container, network):
    return podman('inspect', container, '--format',
                  '{{ (index .NetworkSettings.Networks "%s").IPAddress }}' % network)


def gateway(network):
    return podman('network', 'inspect', network, '--format', '{{ range .Subnets }}{{ .Gateway }}{{ end }}')


def postmaster_start(container):
    return psql(container, 'SELECT pg_postmaster_start_time()')


@contextlib.contextmanager
def startup_process_stopped(container, settle=10):
    """Hold a standby's startup process with SIGSTOP, so that a promotion asked for cannot finish; on exit let it go
    (SIGCONT; nothing to do if it was restarted meanwhile) and wait settle seconds, in which a promotion left pending
    would finish."""
    podman('exec', container, 'pkill', '-STOP', '-f', ': startup')
    try:
        yield
    finally:
        podman('exec', container, 'pkill', '-CONT', '-f', ': startup', check=False)
        time.sleep(settle)


@contextlib.contextmanager
def postmaster_stopped_after_promote_request(container, delay=15, settle=10):
    """From a thread: once a promotion was requested on a standby (the promote signal file is in its data directory),
    wait delay seconds, then stop its postmaster (SIGSTOP). The server is then alive with the request standing but
    cannot be looked at over SQL (a new connection waits for the postmaster), as a live server behind a partition.
    On exit: let the postmaster go (SIGCONT) and wait up to 30 s for it to exit (signals sent to it meanwhile, such
    as a stop, now act), then let the startup process go, and wait settle seconds. Yields a dict with 'stopped' (the
    time of the SIGSTOP) once it happened."""
    data = '/var/lib/postgresql/%s/main' % PG_MAJOR
    pid = podman('exec', container, 'head', '-1', data + '/postmaster.pid')
    state = {}

    def watch():
        deadline = time.time() + 600
        while time.time() < deadline and not state.get('done'):
            if subprocess.run(['podman', 'exec', container, 'test', '-f', data + '/promote'],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0:
                time.sleep(delay)
                podman('exec', container, 'kill', '-STOP', pid)
                state['stopped'] = time.time()
                return
            time.sleep(0.2)

    thread = threading.Thread(target=watch)
    thread.daemon = True
    thread.start()
    try:
        yield state
    finally:
        state['done'] = True
        thread.join()
        podman('exec', container, 'kill', '-CONT', pid, check=False)
        deadline = time.time() + 30
        while time.time() < deadline and subprocess.run(['podman', 'exec', container, 'kill', '-0', pid],
                                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                        check=False).returncode == 0:
            time.sleep(0.5)
        podman('exec', container, 'pkill', '-CONT', '-f', ': startup', check=False)
        time.sleep(settle)


def start_server(container):
    podman('exec', container, 'pg_ctlcluster', PG_MAJOR, 'main', 'start', check=False)


class Probe(object):
    """The writer probe against every container of the cluster, from the controller."""

    def __init__(self, containers, network, primary):
        self.containers = containers
        self.network = network
        self.dir = tempfile.mkdtemp(prefix='pgstream-probe-')
        self.password_file = os.path.join(self.dir, 'password')
        with os.fdopen(os.open(self.password_file, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as f:
            f.write('probe-only-secret\n')
        self.hosts = ','.join('%s=%s' % (c, address(c, network)) for c in containers)
        self._allow(primary)
        self.proc = None
        self.runs = 0

    def _allow(self, primary):
        """A login role for the probe and one pg_hba line per node for the controller's address only."""
        psql(primary, "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') THEN "
                      "CREATE ROLE %s LOGIN; END IF; END$$;\n"
                      "SET password_encryption = 'scram-sha-256';\n"
                      "ALTER ROLE %s PASSWORD 'probe-only-secret';\n"
                      "CREATE SCHEMA IF NOT EXISTS %s AUTHORIZATION %s;\n" % ((PROBE_USER,) * 5))
        line = 'host postgres %s %s/32 scram-sha-256' % (PROBE_USER, gateway(self.network))
        for container in self.containers:
            hba = '/etc/postgresql/%s/main/pg_hba.conf' % PG_MAJOR
            podman('exec', container, 'sh', '-c', "grep -qxF '%s' %s || sed -i '1i %s' %s" % (line, hba, line, hba))
            podman('exec', container, 'pg_ctlcluster', PG_MAJOR, 'main', 'reload', check=False)

    def _common(self, out):
        return ['--hosts', self.hosts, '--user', PROBE_USER, '--password-file', self.password_file, '--out', out]

    def start(self):
        self.runs += 1
        self.out = os.path.join(self.dir, 'run%d.jsonl' % self.runs)
        self.stop_file = os.path.join(self.dir, 'stop%d' % self.runs)
        self.proc = subprocess.Popen([sys.executable, PROBE, 'run'] + self._common(self.out)
                                     + ['--table', 'pgstream_probe_%d' % self.runs, '--stop-file', self.stop_file])
        wait_for(lambda: os.path.exists(self.out) and os.path.getsize(self.out) > 0, 30, 'the probe to commit')
        time.sleep(2)
        self.started = time.time()

    def stop(self):
        """Stop the probe; the report as a dict (lost_acked, acked, unavailability ...)."""
        time.sleep(2)
        open(self.stop_file, 'w').close()
        self.proc.wait(timeout=30)
        out = subprocess.run([sys.executable, PROBE, 'report'] + self._common(self.out)
                             + ['--table', 'pgstream_probe_%d' % self.runs, '--json'],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
        print(out.stdout)
        lines = [line for line in out.stdout.splitlines() if line.startswith('{')]
        assert lines, out.stdout
        return json.loads(lines[-1])
