-- insert: ARGV[3] key, ARGV[4] due (hex), ARGV[5] priority, ARGV[6] item.
local k = ARGV[3]
if redis.call('HEXISTS', ENTRIES, k) == 1 then return {'dup'} end
local e = { d = ARGV[4], s = next_seq(), p = tonumber(ARGV[5]), a = 0, t = NONE, x = NONE }
redis.call('HSET', ENTRIES, k, record(e))
redis.call('HSET', ITEMS, k, ARGV[6])
to_band(k, e)
count_add(e.p, 1)
return {'ok'}
