-- extend: ARGV[3] key, ARGV[4] token (hex), ARGV[5] now (hex), ARGV[6] new
-- expiry (hex).
local k = ARGV[3]
local e = held(k, ARGV[4], ARGV[5])
if not e then return {'lost'} end
redis.call('ZREM', LEASES, lease_member(e, k))
e.x = ARGV[6]
redis.call('HSET', ENTRIES, k, record(e))
redis.call('ZADD', LEASES, score(e.x), lease_member(e, k))
return {'ok'}
