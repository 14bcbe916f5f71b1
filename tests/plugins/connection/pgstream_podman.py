# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only connection: containers.podman.podman with pipelining. Not part of the collection.

The Molecule scenarios spend most of their time in Ansible's per-task overhead. containers.podman's
connection runs six podman commands for every task (mount, echo ~, mkdir, chmod, python, rm) and most
tasks become postgres, which adds more. Each podman command costs about 0.2 s here. With pipelining
the module goes to python's stdin through one `podman exec -i`, as it does over ssh with pipelining on.
The container's filesystem is mounted only when a file is put or fetched (template, copy, slurp).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    name: pgstream_podman
    short_description: containers.podman.podman with pipelining (pgstream.replication's tests only)
    description:
      - Runs commands in an existing podman container like containers.podman.podman, but supports
        pipelining (the module is sent to the interpreter's stdin through C(podman exec -i)) and mounts
        the container's filesystem only for file transfers.
    options:
      remote_addr:
        description: The ID of the container.
        default: inventory_hostname
        vars:
          - name: ansible_host
          - name: inventory_hostname
          - name: ansible_podman_host
      remote_user:
        description: User in the container that runs the commands.
        ini:
          - section: defaults
            key: remote_user
        env:
          - name: ANSIBLE_REMOTE_USER
        vars:
          - name: ansible_user
      podman_extra_args:
        description: Extra arguments to pass to the podman command line.
        default: ''
        ini:
          - section: defaults
            key: podman_extra_args
        vars:
          - name: ansible_podman_extra_args
        env:
          - name: ANSIBLE_PODMAN_EXTRA_ARGS
      podman_executable:
        description: Executable for podman command.
        default: podman
        vars:
          - name: ansible_podman_executable
        env:
          - name: ANSIBLE_PODMAN_EXECUTABLE
      pipelining:
        description: Send modules to the interpreter's stdin instead of copying them into the container.
        type: boolean
        default: true
        ini:
          - section: defaults
            key: pipelining
        env:
          - name: ANSIBLE_PIPELINING
        vars:
          - name: ansible_pipelining
"""

import shlex

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ensure_connect
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection


# What podman says when the container is gone or not running. containers.podman's connection reports such
# a host as unreachable (its first command, `echo ~`, fails with 255 and Ansible gives up on the host); a
# pipelined task has no such first command, so this connection raises the same connection failure itself,
# as ssh does for a dead host. Playbooks rely on it (ignore_unreachable on a killed primary).
NOT_RUNNING = (b'can only create exec sessions on running containers', b'no such container',
               b'container state improper')


class Connection(PodmanConnection):
    """containers.podman.podman plus pipelining and a lazy mount."""

    transport = 'pgstream_podman'
    has_pipelining = True

    def _connect(self):
        # No `podman mount` for every task: put_file and fetch_file mount when they need to.
        self._connected = True
        return self

    def _mount(self):
        if self._mount_point is None:
            super(Connection, self)._connect()

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        """Run cmd in the container; with in_data (pipelining) keep podman's stdin open (-i)."""
        super(PodmanConnection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        args = ['exec']
        if in_data is not None:
            args.append('-i')
        if self.user:
            args.extend(('--user', self.user))
        rc, out, err = self._podman(args, shlex.split(to_native(cmd, errors='surrogate_or_strict')), in_data)
        if rc != 0 and err.startswith(b'Error: ') and any(m in err.lower() for m in NOT_RUNNING):
            raise AnsibleConnectionFailure('container %s cannot run commands: %s'
                                           % (self._container_id, to_native(err.strip())))
        return rc, out, err

    def put_file(self, in_path, out_path):
        self._mount()
        super(Connection, self).put_file(in_path, out_path)

    def fetch_file(self, in_path, out_path):
        self._mount()
        super(Connection, self).fetch_file(in_path, out_path)
