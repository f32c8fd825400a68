-- extend: ARGV[3] key, ARGV[4] token, ARGV[5] now (hex), ARGV[6] new expiry (hex).
local k, t, x = ARGV[3], ARGV[4], ARGV[6]
local h = held(k, t, ARGV[5])
if not h then return {'lost'} end
redis.call('ZREM', LEASES, lease_member(h[2], t, k))
redis.call('HSET', ekey(k), 'x', x)
redis.call('ZADD', LEASES, score(x), lease_member(x, t, k))
return {'ok'}
