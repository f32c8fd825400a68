#!/usr/bin/env python3
"""Validate fresh3/replies.jsonl, the fourth held-out set (see README.md here), with the
checks every held-out set runs (../heldout_check.py): LABELLING.md, and no system or reply
shared with an earlier file (replies.jsonl, fresh/, fresh2/) or with Sisimai/Crisp. Prints
counts and row ids only.

Usage: python3 tests/data/generalisation/fresh3/check.py [--counts]
"""
import importlib.util, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('heldout_check', os.path.join(os.path.dirname(HERE), 'heldout_check.py'))
heldout_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(heldout_check)


def main(counts=False):
    return heldout_check.check_set('fresh3', ['replies.jsonl', 'fresh/replies.jsonl', 'fresh2/replies.jsonl'], counts)


if __name__ == '__main__':
    sys.exit(main(counts='--counts' in sys.argv))
