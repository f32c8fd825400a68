#!/usr/bin/env python3
"""The checks every held-out set of the generalisation corpus runs (fresh/, fresh2/, …).

`python3 tests/data/generalisation/heldout_check.py NAME [--counts]` runs `check_set(NAME)`
(check.py runs it for every set): the same LABELLING.md checks as check.py runs on
replies.jsonl, plus
- no system of the set appears in an earlier file (`earlier_files(name)`: replies.jsonl
  and every set gathered before this one, in order fresh, fresh2, fresh3, …; the sets
  share no receiving system);
- no reply of the set is identical to a reply in an earlier file or in the Sisimai/Crisp
  corpora (tests/data/corpus/*.jsonl, or shared/corpus/ where that is where they live).
It names rows by id only and prints counts, never reply text: nobody writing classifier
rules should read a held-out set's rows.
"""
import collections, importlib.util, json, os, re

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))


def _parent_check():
    spec = importlib.util.spec_from_file_location('generalisation_check', os.path.join(HERE, 'check.py'))
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


def normalise(text):
    """A reply with case and spacing folded and addresses, IP literals, host and domain
    names and numbers masked: two replies that differ only there are near-duplicates."""
    t = text.lower().replace('\r\n', ' ')
    t = re.sub(r'<[^>\s]*>', '<a>', t)
    t = re.sub(r'\S+@\S+', '<a>', t)
    t = re.sub(r'\[?\b\d{1,3}(\.\d{1,3}){3}\b\]?', '<ip>', t)
    t = re.sub(r'\b[a-z0-9-]+(\.[a-z0-9-]+)+\b', '<h>', t)
    t = re.sub(r'\d+', '<n>', t)
    t = re.sub(r'[^a-z<>]+', ' ', t)
    return ' '.join(t.split())


def normalise_strict(text):
    """`normalise` after dropping enhanced status codes (`5.1.1`, `(#4.3.0)`): from
    `fresh35/` on, a reply that differs from an earlier one only by carrying (or not) an
    enhanced code is a near-duplicate too (stock wording logged by an older server without
    its enhanced code is not new wording), and an IPv6 address is masked like an IPv4 one."""
    text = re.sub(r'\(?#?\b[245]\.\d{1,3}\.\d{1,3}\b\)?', ' ', text)
    text = re.sub(r'(?i)(ipv6:)?\b(?=[0-9a-f:]*::|(?:[0-9a-f]{1,4}:){3})(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}\b', '192.0.2.1', text)
    return normalise(text)


def _order(name):
    """A set's place in the gathering order: fresh is 1, freshN is N."""
    suffix = name[len('fresh'):]
    return int(suffix) if suffix.isdigit() else 1


def earlier_files(name):
    """replies.jsonl and the replies of every held-out set gathered before `name`."""
    sets = [d for d in os.listdir(HERE)
            if d.startswith('fresh') and os.path.exists(os.path.join(HERE, d, 'replies.jsonl'))]
    before = sorted((d for d in sets if _order(d) < _order(name)), key=_order)
    return ['replies.jsonl'] + [f'{d}/replies.jsonl' for d in before]


def check_set(name, counts=False):
    """Validate `<name>/replies.jsonl`; returns 1 on any error, else 0."""
    earlier = earlier_files(name)
    rows, errors = _parent_check().check_rows(os.path.join(HERE, name, 'replies.jsonl'), quiet=True)
    before = []
    for path in earlier:
        with open(os.path.join(HERE, path), encoding='utf-8') as f:
            before += [(path, json.loads(l)) for l in f if l.strip()]
    for s in sorted({r['system'] for r in rows}):
        for path in sorted({p for p, e in before if e['system'] == s}):
            errors.append(f'system {s} is also in ../{path}')
    known = {e['reply'] for _, e in before}
    corpora = []
    for d in (os.path.join(REPO, 'tests', 'data', 'corpus'), '/work/shared/corpus',
              os.path.join(REPO, '..', 'shared', 'corpus')):
        for corpus in ('sisimai.jsonl', 'crisp.jsonl'):
            p = os.path.join(d, corpus)
            if os.path.exists(p):
                corpora.append(p)
    for p in corpora:
        known |= _replies(p)
    if not any(p.endswith('sisimai.jsonl') for p in corpora):
        print(f'NOTE {name}: sisimai.jsonl/crisp.jsonl not found; identity with them not checked')
    for r in rows:
        if r['reply'] in known:
            errors.append(f'{r["id"]}: reply identical to one in an earlier file or sisimai/crisp')
    # From fresh10/ on, near-duplicates of earlier wording are left out (src/design.md).
    if _order(name) >= 10:
        norm = normalise_strict if _order(name) >= 35 else normalise
        near = {norm(t) for t in known}
        for r in rows:
            if norm(r['reply']) in near:
                errors.append(f'{r["id"]}: reply is a near-duplicate of one in an earlier file or sisimai/crisp (neardup.py)')
    for e in errors:
        print(f'ERROR {name}:', e)
    systems = collections.Counter(r['system'] for r in rows)
    shared = any(' is also in ../' in e for e in errors)
    print(f'{name}: {len(rows)} rows, {len(systems)} systems'
          + ('' if shared else f' (none in {", ".join(earlier)})'))
    if counts:
        for key in ('disposition', 'scope', 'category'):
            print(name, key, dict(collections.Counter(r[key] for r in rows).most_common()))
        for s, c in sorted(systems.items()):
            print(f'  {s}: {c}')
    return 1 if errors else 0


if __name__ == '__main__':
    import sys
    names = [a for a in sys.argv[1:] if not a.startswith('--')]
    if len(names) != 1 or not os.path.exists(os.path.join(HERE, names[0], 'replies.jsonl')):
        sys.exit('usage: heldout_check.py NAME [--counts]  (NAME: a set directory such as fresh4)')
    sys.exit(check_set(names[0], counts='--counts' in sys.argv))
