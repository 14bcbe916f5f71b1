# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Standby (recovery) configuration: libpq conninfo strings and the files that make a standby.

PostgreSQL 12+: ``standby.signal`` plus settings in ``postgresql.auto.conf``.
PostgreSQL 10-11 (and 9.x): ``recovery.conf`` with ``standby_mode = 'on'``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

# Stable key order for conninfo strings; other keys follow sorted by name.
CONNINFO_ORDER = ('host', 'hostaddr', 'port', 'user', 'passfile', 'password', 'dbname', 'application_name',
                  'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'connect_timeout', 'target_session_attrs')
_PLAIN = re.compile(r'^[A-Za-z0-9_.,:/@+-]+$')
_KEY = re.compile(r'^[a-z_]+$')


def quote_conninfo_value(value):
    """libpq quoting: bare when safe, else single-quoted with backslash and quote escaped."""
    value = str(value)
    if _PLAIN.match(value):
        return value
    return "'%s'" % value.replace('\\', '\\\\').replace("'", "\\'")


def build_conninfo(**kw):
    """'key=value ...' in a stable key order; None and '' values are skipped (so no password unless given)."""
    items = dict((k, v) for k, v in kw.items() if v is not None and v != '')
    for key in items:
        if not _KEY.match(key):
            raise ValueError('invalid conninfo keyword: %r' % (key,))
    keys = [k for k in CONNINFO_ORDER if k in items] + sorted(k for k in items if k not in CONNINFO_ORDER)
    return ' '.join('%s=%s' % (k, quote_conninfo_value(items[k])) for k in keys)


def _is_12_plus(major):
    return int(str(major).split('.', maxsplit=1)[0]) >= 12


def standby_files(major, conninfo, slot_name=None, extra=None):
    """What makes data_dir a standby for this major.

    Returns {'signal': 'standby.signal' or None, 'conf': file name, 'settings': ordered dict of settings}.
    """
    settings = {}
    if _is_12_plus(major):
        signal, conf = 'standby.signal', 'postgresql.auto.conf'
    else:
        signal, conf = None, 'recovery.conf'
        settings['standby_mode'] = 'on'
    settings['primary_conninfo'] = conninfo
    if slot_name:
        settings['primary_slot_name'] = slot_name
    if not _is_12_plus(major):
        settings['recovery_target_timeline'] = 'latest'
    for key, value in (extra or {}).items():
        settings[key] = value
    return {'signal': signal, 'conf': conf, 'settings': settings}


def quote_setting(value):
    """postgresql.conf value: bools as on/off, ints bare, everything else single-quoted."""
    if isinstance(value, bool):
        return 'on' if value else 'off'
    if isinstance(value, int):
        return str(value)
    return "'%s'" % str(value).replace('\\', '\\\\').replace("'", "''")


def render_settings(settings):
    """Settings dict -> postgresql.conf lines ("key = 'value'\\n" each, in dict order)."""
    return ''.join('%s = %s\n' % (key, quote_setting(value)) for key, value in settings.items())


_SETTING_LINE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=|\s)')


def merge_settings(text, settings):
    """Return a postgresql.conf-style text with settings set: existing lines for these keys are dropped
    and the new values appended at the end (later lines win in PostgreSQL anyway)."""
    names = set(k.lower() for k in settings)
    kept = []
    for line in (text or '').splitlines(True):
        match = _SETTING_LINE.match(line)
        if match and match.group(1).lower() in names:
            continue
        kept.append(line if line.endswith('\n') else line + '\n')
    return ''.join(kept) + render_settings(settings)


def unquote_setting(raw):
    """A postgresql.conf value as written after '=' (quoted or bare, trailing comment allowed) -> its string value."""
    raw = raw.strip()
    if raw.startswith("'"):
        out, i = [], 1
        while i < len(raw):
            ch = raw[i]
            if ch == "'" and raw[i + 1:i + 2] == "'":
                out.append("'")
                i += 2
            elif ch == "'":
                break
            elif ch == '\\' and i + 1 < len(raw):
                out.append(raw[i + 1])
                i += 2
            else:
                out.append(ch)
                i += 1
        return ''.join(out)
    return raw.split('#', 1)[0].strip()


_SETTING_VALUE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=?\s*(.*)$')


def parse_settings(text):
    """postgresql.conf-style text -> {lower-case name: string value}; later lines win, as in PostgreSQL."""
    found = {}
    for line in (text or '').splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith('#') or not _SETTING_LINE.match(line):
            continue
        match = _SETTING_VALUE.match(line)
        if match:
            found[match.group(1).lower()] = unquote_setting(match.group(2))
    return found


def remove_settings(text, names):
    """text without the lines setting any of names (case-insensitive); every other line kept as it is."""
    names = set(n.lower() for n in names)
    kept = []
    for line in (text or '').splitlines(True):
        match = _SETTING_LINE.match(line)
        if match and match.group(1).lower() in names:
            continue
        kept.append(line if line.endswith('\n') else line + '\n')
    return ''.join(kept)


_BOOL_ON = ('on', 'true', 'yes', '1')


def same_setting(name, current, wanted):
    """Whether the value on disk (string or None) already means wanted (string or None = not set)."""
    if current is None or wanted is None:
        return current is None and wanted is None
    if name == 'standby_mode':
        return current.strip().lower() in _BOOL_ON and str(wanted).strip().lower() in _BOOL_ON
    return str(current) == str(wanted)


def plan_settings(text, wanted):
    """Apply wanted ({name: value, or None to remove}) to a settings text.

    Returns (new_text, changed_names). Settings already holding their value are left where they are;
    changed ones are removed and (unless None) appended at the end; every other line is kept.
    """
    current = parse_settings(text)
    changed = [name for name, value in wanted.items() if not same_setting(name, current.get(name.lower()), value)]
    if not changed:
        return text or '', []
    new = remove_settings(text, [n for n in changed if wanted[n] is None])
    to_set = dict((n, wanted[n]) for n in changed if wanted[n] is not None)
    if to_set:
        new = merge_settings(new, to_set)
    return new, changed
