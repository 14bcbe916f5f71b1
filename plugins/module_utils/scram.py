# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side PostgreSQL password verifiers (SCRAM-SHA-256 and md5).

Used to compare a desired password with the verifier stored in pg_authid.rolpassword
without ever sending the plaintext to the server, and to build the verifier that is
sent instead of the plaintext (PostgreSQL stores a pre-built verifier as is).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import hashlib
import hmac
import os
import stringprep
import unicodedata

SCRAM_PREFIX = 'SCRAM-SHA-256$'
MD5_PREFIX = 'md5'
DEFAULT_ITERATIONS = 4096
SALT_LENGTH = 16  # bytes, as PostgreSQL's SCRAM_DEFAULT_SALT_LEN


def _b(value):
    if isinstance(value, bytes):
        return value
    return value.encode('utf-8')


def _prohibited(char):
    return (stringprep.in_table_c12(char) or stringprep.in_table_c21_c22(char)
            or stringprep.in_table_c3(char) or stringprep.in_table_c4(char)
            or stringprep.in_table_c5(char) or stringprep.in_table_c6(char)
            or stringprep.in_table_c7(char) or stringprep.in_table_c8(char)
            or stringprep.in_table_c9(char))


def saslprep(password):
    """SASLprep (RFC 4013) the way PostgreSQL's pg_saslprep() applies it to passwords.

    Returns the bytes to feed to PBKDF2. As in PostgreSQL: pure ASCII is used as is,
    unassigned code points are allowed, and when the password is not valid UTF-8 or
    contains prohibited output the raw bytes are used unchanged.
    """
    raw = _b(password)
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        return raw
    if all(ord(c) < 0x80 for c in text):
        return raw
    mapped = []
    for char in text:
        if stringprep.in_table_c12(char):  # non-ASCII space -> SPACE
            mapped.append(u' ')
        elif stringprep.in_table_b1(char):  # commonly mapped to nothing
            continue
        else:
            mapped.append(char)
    text = unicodedata.normalize('NFKC', u''.join(mapped))
    if not text:
        return raw
    if any(_prohibited(c) for c in text):
        return raw
    if any(stringprep.in_table_d1(c) for c in text):
        if any(stringprep.in_table_d2(c) for c in text):
            return raw
        if not (stringprep.in_table_d1(text[0]) and stringprep.in_table_d1(text[-1])):
            return raw
    return text.encode('utf-8')


def _hmac(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


def _scram_keys(password, salt, iterations):
    salted = hashlib.pbkdf2_hmac('sha256', saslprep(password), salt, iterations)
    stored_key = hashlib.sha256(_hmac(salted, b'Client Key')).digest()
    server_key = _hmac(salted, b'Server Key')
    return stored_key, server_key


def scram_secret(password, salt=None, iterations=DEFAULT_ITERATIONS):
    """Build a PostgreSQL SCRAM-SHA-256 verifier for password.

    salt: raw bytes (random 16 bytes when None). iterations: PBKDF2 rounds.
    """
    if salt is None:
        salt = os.urandom(SALT_LENGTH)
    iterations = int(iterations)
    if iterations < 1:
        raise ValueError('iterations must be a positive integer')
    stored_key, server_key = _scram_keys(password, salt, iterations)
    return '%s%d:%s$%s:%s' % (SCRAM_PREFIX, iterations, _b64(salt), _b64(stored_key), _b64(server_key))


def md5_secret(password, role_name):
    """Build a PostgreSQL md5 verifier: 'md5' + md5(password || role name)."""
    return MD5_PREFIX + hashlib.md5(_b(password) + _b(role_name)).hexdigest()  # nosec - PostgreSQL's md5 format


def _b64(data):
    return base64.b64encode(data).decode('ascii')


def parse_scram_secret(stored):
    """Split a SCRAM-SHA-256 verifier into (iterations, salt, stored_key, server_key); None if malformed."""
    if not stored or not stored.startswith(SCRAM_PREFIX):
        return None
    try:
        iter_salt, keys = stored[len(SCRAM_PREFIX):].split('$', 1)
        iterations, salt = iter_salt.split(':', 1)
        stored_key, server_key = keys.split(':', 1)
        parsed = (int(iterations), base64.b64decode(salt, validate=True),
                  base64.b64decode(stored_key, validate=True), base64.b64decode(server_key, validate=True))
    except (ValueError, binascii.Error):
        return None
    if parsed[0] < 1 or len(parsed[2]) != 32 or len(parsed[3]) != 32:
        return None
    return parsed


def secret_method(stored):
    """'scram-sha-256', 'md5', None (no password) or 'unknown' for a pg_authid.rolpassword value."""
    if not stored:
        return None
    if stored.startswith(SCRAM_PREFIX):
        return 'scram-sha-256'
    if stored.startswith(MD5_PREFIX) and len(stored) == 35:
        return 'md5'
    return 'unknown'


def verify_password(password, stored, role_name):
    """True when password matches the stored PostgreSQL verifier of role_name.

    Supports SCRAM-SHA-256 (same salt and iteration count are reused) and md5.
    Returns False for an empty/unknown/malformed verifier.
    """
    if password is None or not stored:
        return False
    method = secret_method(stored)
    if method == 'md5':
        return hmac.compare_digest(_b(md5_secret(password, role_name)), _b(stored))
    if method == 'scram-sha-256':
        parsed = parse_scram_secret(stored)
        if parsed is None:
            return False
        iterations, salt, stored_key, server_key = parsed
        want_stored, want_server = _scram_keys(password, salt, iterations)
        return hmac.compare_digest(want_stored, stored_key) and hmac.compare_digest(want_server, server_key)
    return False
