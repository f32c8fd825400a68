-- insert: ARGV[3] key, ARGV[4] due (hex), ARGV[5] priority, ARGV[6] item.
local k, d, p = ARGV[3], ARGV[4], ARGV[5]
local ek = ekey(k)
if redis.call('EXISTS', ek) == 1 then return {'dup'} end
local s = next_seq()
redis.call('HSET', ek, 'i', ARGV[6], 'd', d, 'p', p, 'a', 0, 's', s)
to_band(k, d, s, p)
count_add(p, 1)
return {'ok'}
