"""Messages of fail/assert/debug tasks are read in one line of a terminal or a CI page: a folded block (>-) with a
more-indented line keeps its line breaks, which then show as \\n in the middle of a sentence."""
import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYS = ('msg', 'fail_msg', 'success_msg')
JINJA = re.compile(r'\{\{.*?\}\}|\{%.*?%\}', re.S)
FILES = sorted(glob.glob(os.path.join(ROOT, 'playbooks', '**', '*.yml'), recursive=True)
               + glob.glob(os.path.join(ROOT, 'roles', '*', 'tasks', '*.yml')))


def broken_messages(document):
    """The messages (first 60 characters) with a line break outside their Jinja expressions."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in KEYS and isinstance(value, str) and '\n' in JINJA.sub('', value).rstrip('\n'):
                    found.append(value[:60])
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found


def test_a_more_indented_line_is_found():
    document = yaml.safe_load('- ansible.builtin.fail:\n    msg: >-\n      it failed at {{ x }}:\n'
                              '        {{ y }}.\n      Look at the log.\n')
    assert broken_messages(document) == ['it failed at {{ x }}:\n  {{ y }}.\nLook at the log.']


def test_a_line_break_inside_an_expression_is_not():
    document = yaml.safe_load('- ansible.builtin.fail:\n    msg: >-\n      it failed at {{ x\n'
                              '         if y else z }}. Look at the log.\n')
    assert broken_messages(document) == []


@pytest.mark.parametrize('path', FILES, ids=lambda p: os.path.relpath(p, ROOT))
def test_messages_have_no_line_break(path):
    with open(path) as f:
        document = yaml.safe_load(f)
    assert broken_messages(document) == []
