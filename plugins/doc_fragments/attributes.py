# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Descriptions of the common attributes; each module states its own C(support)."""

    DOCUMENTATION = r'''
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without modifying the target.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) when in diff mode.
  platform:
    description: Target operating systems.
    support: N/A
'''
