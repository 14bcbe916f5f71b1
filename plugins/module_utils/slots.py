# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replication slot names."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

# PostgreSQL's rule for slot names (ReplicationSlotValidateName): lower case letters, digits, underscores, NAMEDATALEN - 1.
SLOT_NAME_RE = re.compile(r'^[a-z0-9_]{1,63}$')
