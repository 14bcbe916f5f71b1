# -*- coding: utf-8 -*-
"""SCRAM-SHA-256 / md5 verifiers.

The VECTORS were produced by a real PostgreSQL 15.18 (Debian 15.18-0+deb12u1): each role was created
with the password shown (password_encryption scram-sha-256 or md5) and the verifier copied from
pg_authid.rolpassword. They are independent of this collection's code, and the non-ASCII ones check
that SASLprep is applied exactly like pg_saslprep() does.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils import scram

VECTORS = [
    # role, password, rolpassword from PostgreSQL
    ('v_ascii', u'correct horse battery staple',
     'SCRAM-SHA-256$4096:9tEXhLp1tYb78n8DJ/VFtw==$D3syyAcjN6czY6bRrWwOi+cYX97Oflstz+yEriYgHTU=:'
     'M5uk3n8Xm76cZQs7hBBV/tfvLzepba1vcBfoHA2Zq9g='),
    ('v_umlaut', u'p\u00e4ssw\u00f6rd',
     'SCRAM-SHA-256$4096:NX8ZeKq4bevdB6lbGWBEKQ==$p/CSULqurB10U7nhFi4nYQTFdVbBg95L1wbeDWpaW5Y=:'
     '+PwqecmuS249RkO90+3lmEt0X19Tj9NdIS042m2pcrY='),
    ('v_softhyphen', u'I\u00adX',  # soft hyphen: mapped to nothing
     'SCRAM-SHA-256$4096:jlP/ddfoTWHoeubm0dP19g==$SZ0LUq5Jr+8F942XYC86aBq/vBIJKxgaf8ISy2ytifw=:'
     'rK+TiOqOvWxasPlcDGv6BiM/U1Q2sZ+Gtyc8lIg6Ngw='),
    ('v_roman', u'\u2168',  # ROMAN NUMERAL NINE: NFKC -> "IX"
     'SCRAM-SHA-256$4096:AXc4t3rS4q2E0RLV0R6gQg==$HXNZitFQyz9JZjNfUOu5QpdWv2GOv01EBGfBS7ETMHA=:'
     'bvpjYDfgE0NctgvHDpoz+fxOhOo+sCtQ+4SpPl8B5Ow='),
    ('v_nbsp', u'a\u00a0b',  # no-break space -> space
     'SCRAM-SHA-256$4096:1+zROpGBh2KSixG/CXZugg==$/bXyGt+ert9Od1C3z1wFfDxGsjQBK0Y9C8nJ0xUs6WU=:'
     '4Ykaos1w6d9RnWDKgsvmfhRtdYVHD7Fzn7CSqAksSAc='),
    ('v_prohibited', u'a\u200eb',  # LEFT-TO-RIGHT MARK is prohibited: raw bytes are used
     'SCRAM-SHA-256$4096:8jeydZ11FOOKdjcR30lheA==$m4kEFGQJUhOLHnfU22/6udIkUTyUZD06cGzDZirI1i8=:'
     'YJBGZEBUsQjg+i67wZIqOWZDlDbYgDae2h1rmSry+gk='),
    ('v_empty_after', u'\u00ad',  # empty after mapping: raw bytes are used
     'SCRAM-SHA-256$4096:+iTFgEWO5D9F3vdYwVLBlA==$ni+Y1vfOC1FYdgFtZS6T39JftOJdxtY6wqlTULY613k=:'
     'nJuoaCZ13ox3pHChsmnYhETLUno5VSbztIT3QOGav3g='),
    ('v_md5', u'S3cret!', 'md58693ef798d4a04abd7b165a1c338b0a4'),
    (u'Weird "Name"', u'p@ss', 'md56cf8a366cea3b27867321d36439610e6'),
]


@pytest.mark.parametrize('role, password, stored', VECTORS, ids=[v[0] for v in VECTORS])
def test_verifies_postgresql_vectors(role, password, stored):
    assert scram.verify_password(password, stored, role)


@pytest.mark.parametrize('role, password, stored', VECTORS, ids=[v[0] for v in VECTORS])
def test_rejects_wrong_password(role, password, stored):
    assert not scram.verify_password(password + u'x', stored, role)


@pytest.mark.parametrize('password, equivalent, role', [
    (u'I\u00adX', u'IX', 'v_softhyphen'),
    (u'\u2168', u'IX', 'v_roman'),
    (u'a\u00a0b', u'a b', 'v_nbsp'),
])
def test_saslprep_equivalents_verify(password, equivalent, role):
    stored = dict((v[0], v[2]) for v in VECTORS)[role]
    assert scram.verify_password(equivalent, stored, role)


def test_prohibited_password_is_not_normalized():
    stored = dict((v[0], v[2]) for v in VECTORS)['v_prohibited']
    assert not scram.verify_password(u'ab', stored, 'v_prohibited')


def test_md5_depends_on_role_name():
    assert not scram.verify_password(u'S3cret!', 'md58693ef798d4a04abd7b165a1c338b0a4', 'other_role')


@pytest.mark.parametrize('stored', [
    None, '', 'plaintext', 'md5short', 'SCRAM-SHA-256$', 'SCRAM-SHA-256$4096:c2FsdA==$bad',
    'SCRAM-SHA-256$x:c2FsdA==$AAAA:BBBB', 'SCRAM-SHA-256$0:c2FsdA==$' + 'A' * 44 + ':' + 'A' * 44,
    'SCRAM-SHA-256$4096:c2FsdA==$c2hvcnQ=:c2hvcnQ=', 'SCRAM-SHA-256$4096:!!!$' + 'A' * 44 + ':' + 'A' * 44,
])
def test_malformed_or_missing_verifier_never_verifies(stored):
    assert scram.verify_password('anything', stored, 'r') is False


def test_none_password_never_verifies():
    assert scram.verify_password(None, VECTORS[0][2], VECTORS[0][0]) is False


def test_scram_secret_reproduces_postgresql_verifier_from_its_salt():
    role, password, stored = VECTORS[0]
    salt = base64.b64decode(stored.split('$')[1].split(':')[1])
    assert scram.scram_secret(password, salt=salt, iterations=4096) == stored


def test_scram_secret_random_salt_and_roundtrip():
    first = scram.scram_secret(u'pw')
    second = scram.scram_secret(u'pw')
    assert first != second
    iterations, salt, stored_key, server_key = scram.parse_scram_secret(first)
    assert (iterations, len(salt), len(stored_key), len(server_key)) == (4096, 16, 32, 32)
    assert scram.verify_password(u'pw', first, 'any') and scram.verify_password(u'pw', second, 'any')


def test_scram_secret_other_iteration_count():
    secret = scram.scram_secret(u'pw', salt=b'0123456789abcdef', iterations=10000)
    assert secret.startswith('SCRAM-SHA-256$10000:MDEyMzQ1Njc4OWFiY2RlZg==$')
    assert scram.verify_password(u'pw', secret, 'r')
    # the same keys under another iteration count must not verify
    assert not scram.verify_password(u'pw', secret.replace('$10000:', '$4096:'), 'r')


@pytest.mark.parametrize('iterations', [0, -1])
def test_scram_secret_rejects_bad_iterations(iterations):
    with pytest.raises(ValueError):
        scram.scram_secret(u'pw', iterations=iterations)


def test_md5_secret_matches_postgresql():
    assert scram.md5_secret(u'S3cret!', 'v_md5') == 'md58693ef798d4a04abd7b165a1c338b0a4'


@pytest.mark.parametrize('stored, method', [
    (None, None), ('', None), (VECTORS[0][2], 'scram-sha-256'), ('md58693ef798d4a04abd7b165a1c338b0a4', 'md5'),
    ('md5abc', 'unknown'), ('secret', 'unknown'),
])
def test_secret_method(stored, method):
    assert scram.secret_method(stored) == method


@pytest.mark.parametrize('password, prepared', [
    (u'plain ascii\x07', b'plain ascii\x07'),           # ASCII fast path, control chars kept
    (u'I\u00adX', b'IX'),
    (u'\u2168', b'IX'),
    (u'a\u00a0b', b'a b'),
    (u'a\u200eb', u'a\u200eb'.encode('utf-8')),
    (b'\xff\xfe', b'\xff\xfe'),                         # not UTF-8: raw bytes
    (u'\u05d0a\u05d0', u'\u05d0a\u05d0'.encode('utf-8')),  # RandAL with L: bidi violation -> raw
    (u'\u05d0\u05d1', u'\u05d0\u05d1'.encode('utf-8')),    # pure RandAL is fine
    (u'\u05d01', u'\u05d01'.encode('utf-8')),             # RandAL not last -> raw
])
def test_saslprep(password, prepared):
    assert scram.saslprep(password) == prepared
