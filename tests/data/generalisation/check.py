#!/usr/bin/env python3
"""Validate replies.jsonl (and the held-out sets fresh*/replies.jsonl) against LABELLING.md and print counts.

Usage: python3 tests/data/generalisation/check.py [--counts]
"""
import json, os, sys, collections, re

HERE = os.path.dirname(os.path.abspath(__file__))
CATS = set('''rate_limited too_many_connections too_many_recipients reputation blocklisted
sender_authentication sender_rejected spam_content virus_content content_format message_too_big
user_unknown mailbox_full mailbox_disabled relay_denied domain_not_found no_mail_service dns
network auth_required auth_failed tls_required tls_failed greylisted service_unavailable
server_error protocol policy other'''.split())
STAGES = {'greeting', 'ehlo', 'mail_from', 'rcpt_to', 'data', 'data_end'}
REQ = ['id', 'system', 'reply', 'disposition', 'category', 'scope', 'source', 'note']

def check_rows(path, quiet=False):
    """The LABELLING.md checks on one JSONL file; returns (rows, errors).
    quiet: name rows by id only, never by their reply text (for held-out files)."""
    errors = []
    rows = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            try:
                r = json.loads(line)
            except ValueError as e:
                errors.append(f'line {n}: not JSON: {e}'); continue
            for k in REQ:
                if not r.get(k):
                    errors.append(f'line {n}: missing {k}')
            if r.get('category') not in CATS:
                errors.append(f'line {n}: category {r.get("category")!r}')
            if 'also' in r and r['also'] not in CATS:
                errors.append(f'line {n}: also {r["also"]!r}')
            if r.get('disposition') not in ('transient', 'permanent'):
                errors.append(f'line {n}: disposition {r.get("disposition")!r}')
            if r.get('scope') not in ('recipient', 'message', 'destination'):
                errors.append(f'line {n}: scope {r.get("scope")!r}')
            if 'stage' in r and r['stage'] not in STAGES:
                errors.append(f'line {n}: stage {r["stage"]!r}')
            # a transient label on a 5xx (or permanent on a 4xx) must say EXCEPTION
            m = re.match(r'^\D{0,40}?([245])\d\d[ -]', r.get('reply', ''))
            if m and m.group(1) in '45':
                first = 'transient' if m.group(1) == '4' else 'permanent'
                if r.get('disposition') != first and 'EXCEPTION' not in r.get('note', ''):
                    errors.append(f'line {n}: disposition departs from first digit without EXCEPTION')
            rows.append(r)
    ids = collections.Counter(r['id'] for r in rows)
    errors += [f'duplicate id {i}' for i, c in ids.items() if c > 1]
    pairs = collections.Counter((r['system'], r['reply']) for r in rows)
    if quiet:
        seen = {}
        for r in rows:
            k = (r['system'], r['reply'])
            if k in seen:
                errors.append(f'duplicate (system, reply): {seen[k]} and {r["id"]}')
            seen.setdefault(k, r['id'])
    else:
        errors += [f'duplicate (system, reply): {p}' for p, c in pairs.items() if c > 1]
    return rows, errors


def main():
    rows, errors = check_rows(os.path.join(HERE, 'replies.jsonl'))
    held = set()
    hp = os.path.join(HERE, 'heldout.txt')
    if os.path.exists(hp):
        held = {l.strip() for l in open(hp) if l.strip() and not l.startswith('#')}
        systems = {r['system'] for r in rows}
        errors += [f'heldout system {s} has no rows' for s in held - systems]
    for e in errors:
        print('ERROR', e)
    systems = collections.Counter(r['system'] for r in rows)
    nheld = sum(c for s, c in systems.items() if s in held)
    print(f'{len(rows)} rows, {len(systems)} systems; held out: {len(held)} systems, {nheld} rows')
    if '--counts' in sys.argv:
        for key in ('disposition', 'scope', 'category'):
            print(key, dict(collections.Counter(r[key] for r in rows).most_common()))
        for s, c in sorted(systems.items()):
            print(f'  {s}: {c}{"  (held out)" if s in held else ""}')
    status = 1 if errors else 0
    # the later held-out sets (fresh/, fresh2/, …): same checks plus their own
    import importlib.util
    spec = importlib.util.spec_from_file_location('heldout_check', os.path.join(HERE, 'heldout_check.py'))
    heldout_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(heldout_check)
    for name in sorted(d for d in os.listdir(HERE) if d.startswith('fresh')):
        if os.path.exists(os.path.join(HERE, name, 'replies.jsonl')):
            status |= heldout_check.check_set(name, counts='--counts' in sys.argv)
    return status

if __name__ == '__main__':
    sys.exit(main())
