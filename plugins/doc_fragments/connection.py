# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Options of module_utils.connection.connection_argument_spec()."""

    DOCUMENTATION = r'''
options:
  login_user:
    description:
      - The role to connect as.
    type: str
    default: postgres
  login_password:
    description:
      - The password of O(login_user). Not needed for peer/trust authentication over the unix socket.
      - Never logged, never part of a returned value.
    type: str
  login_host:
    description:
      - Host name or IP address of the server.
      - Empty means the libpq default (the unix socket), or O(login_unix_socket) when set.
    type: str
    default: ''
  login_port:
    description:
      - TCP port of the server; also the suffix of the unix socket file.
    type: int
    default: 5432
  login_unix_socket:
    description:
      - Directory of the unix socket (for example V(/var/run/postgresql)).
      - Used when O(login_host) is empty or V(localhost).
    type: str
    default: ''
  login_db:
    description:
      - Database to connect to.
    type: str
    default: postgres
  connect_timeout:
    description:
      - Seconds to wait for the connection to be established.
    type: int
    default: 10
  ssl_mode:
    description:
      - libpq C(sslmode) of the connection.
    type: str
    default: prefer
    choices: [allow, disable, prefer, require, verify-ca, verify-full]
requirements:
  - psycopg2 on the managed host (Debian/Ubuntu package C(python3-psycopg2)).
notes:
  - Run as the C(postgres) operating-system user (C(become_user=postgres)) to connect with peer authentication over the unix socket.
'''
