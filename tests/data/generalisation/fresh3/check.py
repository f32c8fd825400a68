#!/usr/bin/env python3
"""Validate fresh3/replies.jsonl, the fourth held-out set (see README.md here).

Runs the same LABELLING.md checks as ../check.py, plus:
- no system in this file appears in ../replies.jsonl, ../fresh/replies.jsonl or
  ../fresh2/replies.jsonl (the four sets share no receiving system);
- no reply here is identical to a reply in ../replies.jsonl, ../fresh/replies.jsonl,
  ../fresh2/replies.jsonl or in the
  Sisimai/Crisp corpora
  (tests/data/corpus/*.jsonl, or shared/corpus/ where that is where they live).
It names rows by id only and prints counts, never reply text: nobody writing classifier rules
should read these rows.

Usage: python3 tests/data/generalisation/fresh3/check.py [--counts]
"""
import collections, importlib.util, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
PARENT = os.path.dirname(HERE)
REPO = os.path.abspath(os.path.join(PARENT, '..', '..', '..'))


def _parent_check():
    spec = importlib.util.spec_from_file_location('generalisation_check', os.path.join(PARENT, 'check.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _replies(path):
    out = set()
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line).get('reply')
                if r:
                    out.add(r)
    return out


def main(counts=False):
    rows, errors = _parent_check().check_rows(os.path.join(HERE, 'replies.jsonl'), quiet=True)
    earlier = []
    for name in ('replies.jsonl', os.path.join('fresh', 'replies.jsonl'), os.path.join('fresh2', 'replies.jsonl')):
        with open(os.path.join(PARENT, name), encoding='utf-8') as f:
            earlier += [(name, json.loads(l)) for l in f if l.strip()]
    for s in sorted({r['system'] for r in rows}):
        where = sorted({n for n, e in earlier if e['system'] == s})
        for n in where:
            errors.append(f'system {s} is also in ../{n}')
    known = {e['reply'] for _, e in earlier}
    corpora = []
    for d in (os.path.join(REPO, 'tests', 'data', 'corpus'), '/work/shared/corpus'):
        for name in ('sisimai.jsonl', 'crisp.jsonl'):
            p = os.path.join(d, name)
            if os.path.exists(p):
                corpora.append(p)
    for p in corpora:
        known |= _replies(p)
    if not any(p.endswith('sisimai.jsonl') for p in corpora):
        print('NOTE fresh3: sisimai.jsonl/crisp.jsonl not found; identity with them not checked')
    for r in rows:
        if r['reply'] in known:
            errors.append(f'{r["id"]}: reply identical to one in replies.jsonl/fresh/fresh2/sisimai/crisp')
    for e in errors:
        print('ERROR fresh3:', e)
    systems = collections.Counter(r['system'] for r in rows)
    shared = any(' is also in ../' in e for e in errors)
    print(f'fresh3: {len(rows)} rows, {len(systems)} systems'
          + ('' if shared else ' (none in replies.jsonl, fresh/ or fresh2/replies.jsonl)'))
    if counts:
        for key in ('disposition', 'scope', 'category'):
            print('fresh3', key, dict(collections.Counter(r[key] for r in rows).most_common()))
        for s, c in sorted(systems.items()):
            print(f'  {s}: {c}')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(counts='--counts' in sys.argv))
