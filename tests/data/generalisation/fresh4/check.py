#!/usr/bin/env python3
"""Validate fresh4/replies.jsonl (see README.md here) with the checks every held-out set
runs (../heldout_check.py): LABELLING.md, and no system or reply shared with an earlier
file or with Sisimai/Crisp. Prints counts and row ids only.

Usage: python3 tests/data/generalisation/fresh4/check.py [--counts]
"""
import importlib.util, os, sys

_path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'heldout_check.py')
_spec = importlib.util.spec_from_file_location('heldout_check', _path)
heldout_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(heldout_check)


def main(counts=False):
    return heldout_check.check_set('fresh4', counts)


if __name__ == '__main__':
    sys.exit(main(counts='--counts' in sys.argv))
