# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Options of module_utils/gs_ctl.py gs_ctl_argument_spec(), shared by the gs_ctl_* modules."""

    DOCUMENTATION = r'''
options:
  data_dir:
    description:
      - Data directory of the openGauss instance (C(gs_ctl -D)).
    type: path
    required: true
  gs_ctl_path:
    description:
      - The C(gs_ctl) program. A value with a C(/) is used as it is.
      - A bare name is looked up in C($GAUSSHOME/bin) (O(gauss_home), else the module's C(GAUSSHOME)), then on the
        module's C(PATH), then in the login environment of O(owner) (C(bash -lc 'command -v gs_ctl'), which also
        provides its C(GAUSSHOME) and C(LD_LIBRARY_PATH)).
    type: str
    default: gs_ctl
  owner:
    description:
      - Operating-system user C(gs_ctl) runs as. When the module runs as root it uses C(runuser -u OWNER);
        C(gs_ctl) itself refuses to run as root. When the module already runs as that user (C(become_user)),
        nothing is switched.
    type: str
    default: omm
  gauss_home:
    description:
      - openGauss installation directory. When set, C(gs_ctl) runs with C(GAUSSHOME) set to it, C(<gauss_home>/bin)
        first on C(PATH) and C(<gauss_home>/lib) first on C(LD_LIBRARY_PATH).
      - When omitted and the C(gs_ctl) found sits in C(<dir>/bin) next to C(gaussdb) and a C(<dir>/lib), C(<dir>) is used.
    type: path
notes:
  - C(gs_ctl) runs with C(LC_ALL=C) so that its messages are the English ones this module reads.
  - "Exit codes and messages follow openGauss-server C(src/bin/pg_ctl/pg_ctl.cpp): for example C(gs_ctl query)
    without a server exits 1 with C(PID file ... does not exist), and a C(gs_ctl switchover) that times out exits 0."
'''
