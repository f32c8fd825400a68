-- claim: ARGV[3] now (hex), ARGV[4] max, ARGV[5] lease expiry (hex).
-- Visits the non-empty bands from the highest priority down; in each, takes
-- the due members in (due, insertion) order until `max` are taken.
-- Answers {'ok', key, item, due, priority, attempts, token, ...}.
local now, max, x = ARGV[3], tonumber(ARGV[4]), ARGV[5]
local xs = score(x)
local out = {'ok'}
local taken = 0
local bands = redis.call('ZREVRANGE', BANDS, 0, -1)
for _, p in ipairs(bands) do
  if taken >= max then break end
  local b = band(p)
  local ms, n = upto(b, now, max - taken)
  if n > 0 then
    local last = redis.call('HINCRBY', META, 'token', n)
    local first = last - n
    local zl = {}
    local rem = {}
    for j = 1, n do
      local m = ms[j]
      local k = string.sub(m, 33)
      local ek = ekey(k)
      local tn = first + j
      local t = string.format('%d', tn)
      local h = redis.call('HMGET', ek, 'i', 'd', 'a')
      local a = (tonumber(h[3]) or 0) + 1
      redis.call('HSET', ek, 'a', a, 't', t, 'x', x)
      local o = #out
      out[o + 1] = k; out[o + 2] = h[1]; out[o + 3] = h[2]
      out[o + 4] = p; out[o + 5] = a; out[o + 6] = t
      zl[#zl + 1] = xs; zl[#zl + 1] = x .. hex(tn) .. k
      rem[#rem + 1] = m
      if #rem >= 500 then
        redis.call('ZADD', LEASES, unpack(zl))
        redis.call('ZREM', b, unpack(rem))
        zl = {}; rem = {}
      end
    end
    if #rem > 0 then
      redis.call('ZADD', LEASES, unpack(zl))
      redis.call('ZREM', b, unpack(rem))
    end
    if redis.call('ZCARD', b) == 0 then redis.call('ZREM', BANDS, p) end
    taken = taken + n
  end
end
return out
