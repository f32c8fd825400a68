-- defer / release: ARGV[3] key, ARGV[4] token (hex), ARGV[5] now (hex),
-- ARGV[6] new due (hex; empty: keep the due time), ARGV[7] '1' to take back
-- the attempt (release).
local k = ARGV[3]
local e = held(k, ARGV[4], ARGV[5])
if not e then return {'lost'} end
local d = ARGV[6]
if d == '' then d = e.d end
if ARGV[7] == '1' and e.a > 0 then e.a = e.a - 1 end
to_waiting(k, e, d, e.p)
return {'ok'}
