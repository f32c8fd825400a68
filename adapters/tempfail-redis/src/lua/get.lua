-- get: ARGV[3] key. Answers {'ok', due, priority, attempts, token, expiry,
-- item} (token and expiry '' when waiting), or {'ok'} alone when there is no
-- such entry.
local k = ARGV[3]
local r = redis.call('HGET', ENTRIES, k)
if not r then return {'ok'} end
local e = parse(r)
local t, x = '', ''
if leased(e) then t = e.t; x = e.x end
return {'ok', e.d, e.p, e.a, t, x, redis.call('HGET', ITEMS, k) or ''}
