#!/usr/bin/env python3
"""score.py FILE [CLASSIFY_BINARY]: category, scope and disposition of a probe file's rows as the
`classify` example answers them (build it first: `cargo build --release --all-features --example
classify`; run from the repository root). Scope is counted as tests/generalisation.rs counts it:
`connection` is right for a `destination` label when the category's usual scope is the connection."""
import json,sys,subprocess,collections
f=sys.argv[1]; b=sys.argv[2] if len(sys.argv)>2 else 'target/release/examples/classify'
rows=[json.loads(l) for l in open(f) if l.strip()]
inp=''.join(json.dumps({'reply':r['reply'],**({'stage':r['stage']} if 'stage' in r else {})})+'\n' for r in rows)
out=[json.loads(o) for o in subprocess.run([b],input=inp,capture_output=True,text=True).stdout.splitlines()]
CONN={'auth_failed','auth_required','tls_required','tls_failed','protocol','service_unavailable'}
c=s=d=0; sm=collections.Counter()
for r,o in zip(rows,out):
    c+=o.get('category') in (r['category'],r.get('also'))
    sc=o.get('scope'); ok=sc==r['scope'] or (sc=='connection' and r['scope']=='destination' and o.get('category') in CONN)
    s+=ok; d+=o.get('disposition')==r['disposition']
    if not ok: sm[(r['scope'],sc)]+=1
n=len(rows); print(f'{n} rows: category {c/n:.1%} ({c}) scope {s/n:.1%} ({s}) disp {d/n:.1%} ({d})'); print(sm.most_common(8))
