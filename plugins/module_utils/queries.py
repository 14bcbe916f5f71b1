# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run SQL and keep a redacted record of what ran, for the modules' `queries` return key."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

MASK = '********'


def _text(value):
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return value


class QueryLog:
    """Wraps a DB-API cursor.

    execute() runs a (mutating) statement and records it, mogrified, with every secret
    replaced by ********. In check mode (check_mode=True) execute() only records.
    fetch() runs a read-only query, returns a list of dicts and records nothing.
    """

    def __init__(self, cursor, secrets=(), check_mode=False):
        self.cursor = cursor
        self.check_mode = check_mode
        self._secrets = []
        self._queries = []
        self.add_secrets(secrets)

    def add_secrets(self, secrets):
        """Register more strings to redact (empty values are ignored; longest are replaced first)."""
        for secret in secrets or ():
            if secret and _text(secret) not in self._secrets:
                self._secrets.append(_text(secret))
        self._secrets.sort(key=len, reverse=True)

    def redact(self, text):
        """text with every registered secret replaced by ********."""
        text = _text(text)
        if text is None:
            return text
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def render(self, sql, params=None):
        """The statement as it would be sent, redacted."""
        return self.redact(self.cursor.mogrify(sql, params))

    def execute(self, sql, params=None):
        """Record the redacted statement, then run it unless in check mode."""
        self._queries.append(self.render(sql, params))
        if not self.check_mode:
            self.cursor.execute(sql, params)

    def fetch(self, sql, params=None):
        """Run a read-only query; rows as a list of dicts (column name -> value)."""
        self.cursor.execute(sql, params)
        if self.cursor.description is None:
            return []
        names = [col[0] for col in self.cursor.description]
        return [dict(row) if isinstance(row, dict) else dict(zip(names, row)) for row in self.cursor.fetchall()]

    def fetch_one(self, sql, params=None):
        """First row of fetch() or None."""
        rows = self.fetch(sql, params)
        return rows[0] if rows else None

    @property
    def queries(self):
        """The recorded statements (a copy)."""
        return list(self._queries)
