-- claim: ARGV[3] now (hex), ARGV[4] max, ARGV[5] lease expiry (hex).
-- Visits the non-empty bands from the highest priority down; in each, takes
-- the due members in (due, insertion) order until `max` are taken.
-- Answers {'ok', key, item, due, priority, attempts, token, ...}.
local now, max, x = ARGV[3], tonumber(ARGV[4]), ARGV[5]
local xs = score(x)
local out = {'ok'}
local taken = 0
local bands = redis.call('ZREVRANGE', BANDS, 0, -1)
for _, pb in ipairs(bands) do
  if taken >= max then break end
  local b = band(pb)
  local ms, n = upto(b, now, max - taken)
  if n > 0 then
    local keys, rem = {}, {}
    for j = 1, n do
      keys[j] = sub(ms[j], 33)
      rem[j] = ms[j]
    end
    local recs = chunked('HMGET', ENTRIES, keys)
    local items = chunked('HMGET', ITEMS, keys)
    local first = redis.call('HINCRBY', META, 'token', n) - n
    local sets, zl = {}, {}
    for j = 1, n do
      local k, r = keys[j], recs[j]
      if r then
        local e = parse(r)
        if e.a < 4294967295 then e.a = e.a + 1 end
        e.t = hex(first + j); e.x = x
        sets[#sets + 1] = k; sets[#sets + 1] = record(e)
        zl[#zl + 1] = xs; zl[#zl + 1] = lease_member(e, k)
        local o = #out
        out[o + 1] = k; out[o + 2] = items[j] or ''; out[o + 3] = e.d
        out[o + 4] = pb; out[o + 5] = e.a; out[o + 6] = first + j
        taken = taken + 1
      end
    end
    chunked('ZREM', b, rem)
    if #sets > 0 then
      chunked_pairs('HSET', ENTRIES, sets)
      chunked_pairs('ZADD', LEASES, zl)
    end
    if redis.call('ZCARD', b) == 0 then redis.call('ZREM', BANDS, pb) end
  end
end
return out
