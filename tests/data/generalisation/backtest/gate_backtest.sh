#!/bin/sh
# Backtests the learned model's gate on a retired held-out set with the rules of the
# commit that took that set's one look (BENCHMARKS.md, "Seventh round"):
#   tests/data/generalisation/backtest/gate_backtest.sh COMMIT [--stems]
# e.g. 038a502 (fresh7/), 86a2432 (fresh6/), e864b91 (fresh5/). --stems first gives that
# commit's model the stem features of src/classify/model.rs and retrains it on that
# commit's own tuning files (never its held-out set). Prints totals per gate, never a row.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
commit=$1
wt=${TMPDIR:-/tmp}/tempfail-backtest-$commit
[ -d "$wt" ] || git -C "$repo" worktree add -f --detach "$wt" "$commit" >/dev/null
git -C "$wt" checkout -q -- src
cp "$here/gate_backtest.rs" "$wt/tests/gate_backtest.rs"
export CARGO_TARGET_DIR="$wt/target"
if [ "${2:-}" = "--stems" ]; then
    python3 - "$wt/src/classify/model.rs" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = '        emit(&[b"w:", tok]);\n'
new = old + '''        if tok.len() > STEM {
            let mut cut = STEM;
            while cut > 0 && tok[cut] & 0xc0 == 0x80 {
                cut -= 1;
            }
            if cut > 0 {
                emit(&[b"p:", &tok[..cut]]);
            }
        }
'''
assert s.count(old) == 1, "features() changed shape"
s = s.replace(old, new).replace("const MAX_TOKEN_LEN: usize = 24;", "const MAX_TOKEN_LEN: usize = 24;\nconst STEM: usize = 4;")
open(p, "w").write(s)
PY
    (cd "$wt" && TEMPFAIL_TRAIN=1 cargo test -q --release --all-features --test classify_model weights_are_fresh >/dev/null)
fi
cd "$wt" && cargo test -q --release --all-features --test gate_backtest -- --nocapture 2>&1 | grep -E "^(weak|fresh)"
