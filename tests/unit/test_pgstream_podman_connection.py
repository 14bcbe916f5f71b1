"""tests/plugins/connection/pgstream_podman.py: the podman argv it runs (the scenarios exercise it for real)."""
import importlib.util
import os

import pytest

pytest.importorskip('ansible_collections.containers.podman.plugins.connection.podman')

from ansible.playbook.play_context import PlayContext  # noqa: E402
from ansible.plugins.loader import connection_loader  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGIN_DIR = os.path.join(ROOT, 'tests', 'plugins', 'connection')
_spec = importlib.util.spec_from_file_location('pgstream_podman', os.path.join(PLUGIN_DIR, 'pgstream_podman.py'))
plugin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plugin)


@pytest.fixture
def conn(monkeypatch):
    connection_loader.add_directory(PLUGIN_DIR)
    ctx = PlayContext()
    ctx.remote_addr = 'pg1'
    c = connection_loader.get('pgstream_podman', ctx, None)
    assert c is not None and c.has_pipelining
    calls = []

    def fake_podman(cmd, cmd_args=None, in_data=None, use_container_id=True):
        calls.append((list(cmd) if not isinstance(cmd, str) else [cmd], cmd_args, in_data))
        return 0, b'/mnt/pg1\n' if cmd == 'mount' else b'', b''

    monkeypatch.setattr(c, '_podman', fake_podman)
    c.calls = calls
    return c


@pytest.mark.parametrize('in_data, user, expected', [
    (None, None, ['exec']),
    (b'module source', None, ['exec', '-i']),
    (b'module source', 'postgres', ['exec', '-i', '--user', 'postgres']),
    (None, 'postgres', ['exec', '--user', 'postgres']),
])
def test_exec_keeps_stdin_open_only_for_pipelined_input(conn, in_data, user, expected):
    conn.user = user
    rc, _out, _err = conn.exec_command("/bin/sh -c '/usr/bin/python3 && sleep 0'", in_data=in_data)
    assert rc == 0
    assert conn.calls == [(expected, ['/bin/sh', '-c', '/usr/bin/python3 && sleep 0'], in_data)]


def test_mounts_only_for_file_transfers(conn, tmp_path, monkeypatch):
    conn.exec_command('true')
    assert [c[0] for c in conn.calls] == [['exec']]
    monkeypatch.setattr('ansible_collections.containers.podman.plugins.connection.podman.os.listdir', lambda path: ['etc'])
    copied = []
    monkeypatch.setattr('shutil.copyfile', lambda src, dst: copied.append((src, dst)))
    src = tmp_path / 'f'
    src.write_text('x')
    conn.put_file(str(src), '/tmp/f')
    conn.fetch_file('/tmp/g', str(tmp_path / 'g'))
    assert [c[0] for c in conn.calls] == [['exec'], ['mount']]
    assert copied == [(str(src).encode(), b'/mnt/pg1/tmp/f'), (b'/mnt/pg1/tmp/g', str(tmp_path / 'g').encode())]


@pytest.mark.parametrize('rc, err, unreachable', [
    (255, b'Error: can only create exec sessions on running containers: container state improper\n', True),
    (125, b'Error: no container with name or ID "pg1" found: no such container\n', True),
    (1, b'Traceback (most recent call last):\n', False),
    (255, b'Error: something else\n', False),
])
def test_a_container_that_is_not_running_is_unreachable(conn, monkeypatch, rc, err, unreachable):
    from ansible.errors import AnsibleConnectionFailure
    monkeypatch.setattr(conn, '_podman', lambda *a, **kw: (rc, b'', err))
    if unreachable:
        with pytest.raises(AnsibleConnectionFailure, match='pg1 cannot run commands'):
            conn.exec_command('/usr/bin/python3', in_data=b'x')
    else:
        assert conn.exec_command('/usr/bin/python3', in_data=b'x') == (rc, b'', err)
