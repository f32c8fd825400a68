#!/usr/bin/env python3
"""Near-duplicate filter: a row whose reply, normalised (addresses, IPs, host names,
numbers and ids masked, case and spacing folded), equals a normalised reply of the tuning
files or the Sisimai/Crisp corpora. Prints ids and counts only.
usage: neardup.py FILE... (a set's files; its own directory is not compared) -> prints '<id>' per near-duplicate, then a count line."""
import json, re, sys, glob
import os
G = os.path.dirname(os.path.abspath(__file__))
def norm(t):
    t = t.lower().replace('\r\n', ' ')
    t = re.sub(r'<[^>\s]*>', '<a>', t)                      # <anything>
    t = re.sub(r'\S+@\S+', '<a>', t)                       # bare addresses
    t = re.sub(r'\[?\b\d{1,3}(\.\d{1,3}){3}\b\]?', '<ip>', t)
    t = re.sub(r'\b[a-z0-9-]+(\.[a-z0-9-]+)+\b', '<h>', t)  # host and domain names
    t = re.sub(r'\d+', '<n>', t)
    t = re.sub(r'[^a-z<>]+', ' ', t)
    return ' '.join(t.split())
known = set()
files = [f'{G}/replies.jsonl'] + glob.glob(f'{G}/fresh*/replies.jsonl') + glob.glob(os.path.join(G, '..', 'corpus', '*.jsonl'))
for f in files:
    if any(os.path.samefile(os.path.dirname(f), os.path.dirname(os.path.abspath(a))) for a in sys.argv[1:]): continue
    for l in open(f, encoding='utf-8'):
        if l.strip():
            try: known.add(norm(json.loads(l)['reply']))
            except Exception: pass
n = d = 0
for f in sys.argv[1:]:
    for l in open(f, encoding='utf-8'):
        if not l.strip(): continue
        r = json.loads(l); n += 1
        if norm(r['reply']) in known:
            d += 1; print(r['id'])
print(f'# {d} of {n} rows are near-duplicates of a tuning or corpus reply', file=sys.stderr)
