-- reap: ARGV[3] now (hex), ARGV[4] most to reap in this call. Returns the
-- entries whose lease ended at or before now to waiting, in (expiry, token)
-- order. Answers {'ok', reaped, more} (more = 1: call again).
local now, limit = ARGV[3], tonumber(ARGV[4])
local ms, n = upto(LEASES, now, limit)
for j = 1, n do
  local m = ms[j]
  local k = sub(m, 33)
  local r = redis.call('HGET', ENTRIES, k)
  local e = r and parse(r)
  if e and leased(e) and lease_member(e, k) == m then
    to_waiting(k, e, e.d, e.p)
  else
    redis.call('ZREM', LEASES, m) -- an index entry without its lease
  end
end
local more = 0
if n == limit and #ms == limit then more = 1 end
return {'ok', n, more}
