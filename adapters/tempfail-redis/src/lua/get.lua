-- get: ARGV[3] key. Answers {'ok', due, priority, attempts, token, expiry,
-- item} ({'ok'} alone when there is no such entry).
local h = redis.call('HMGET', ekey(ARGV[3]), 'd', 'p', 'a', 't', 'x', 'i')
if not h[1] then return {'ok'} end
return {'ok', h[1], h[2], h[3], h[4] or '', h[5] or '', h[6]}
