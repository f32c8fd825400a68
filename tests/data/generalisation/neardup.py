#!/usr/bin/env python3
"""Near-duplicate filter: a row whose reply, normalised (addresses, IPs, host names,
numbers and ids masked, case and spacing folded), equals a normalised reply of the tuning
files or the Sisimai/Crisp corpora. Prints ids and counts only.
usage: neardup.py FILE... (a set here is compared with the sets gathered before it, a
file elsewhere with every set) -> prints '<id>' per near-duplicate, then a count line."""
import glob, importlib.util, json, os, re, sys
G = os.path.dirname(os.path.abspath(__file__))
known = set()
# A set of this directory is compared with the files gathered before it (heldout_check's
# order); any other file (a gathering part) with every set here.
spec = importlib.util.spec_from_file_location('heldout_check', os.path.join(G, 'heldout_check.py'))
hc = importlib.util.module_from_spec(spec); spec.loader.exec_module(hc)
sets = {os.path.basename(os.path.dirname(os.path.abspath(a))) for a in sys.argv[1:]}
# From fresh35/ on (and for a gathering part), an enhanced code's presence or absence does
# not make wording new (heldout_check.normalise_strict).
one = next(iter(sets)) if len(sets) == 1 else ''
norm = hc.normalise if one.startswith('fresh') and hc._order(one) < 35 else hc.normalise_strict
if len(sets) == 1 and next(iter(sets)).startswith('fresh') and os.path.dirname(os.path.dirname(os.path.abspath(sys.argv[1]))) == G:
    files = [os.path.join(G, f) for f in hc.earlier_files(next(iter(sets)))]
else:
    files = [f'{G}/replies.jsonl'] + glob.glob(f'{G}/fresh*/replies.jsonl')
files += glob.glob(os.path.join(G, '..', 'corpus', '*.jsonl'))
for f in files:
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
