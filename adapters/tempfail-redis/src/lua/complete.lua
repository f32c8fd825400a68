-- complete: ARGV[3] now (hex), then pairs (key, token). Answers {'ok', r1, r2,
-- ...} with 1 for each entry removed and 0 for each whose token no longer
-- holds it (changed nothing).
local now = ARGV[3]
local out = {'ok'}
local dec = {}
local rem = {}
local dels = {}
for j = 4, #ARGV - 1, 2 do
  local k, t = ARGV[j], ARGV[j + 1]
  local h = held(k, t, now)
  if h then
    -- a key listed twice: the first removes it, the second finds nothing
    redis.call('DEL', ekey(k))
    rem[#rem + 1] = lease_member(h[2], t, k)
    dec[h[4]] = (dec[h[4]] or 0) + 1
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  if #rem >= 500 then redis.call('ZREM', LEASES, unpack(rem)); rem = {} end
end
if #rem > 0 then redis.call('ZREM', LEASES, unpack(rem)) end
for p, n in pairs(dec) do count_add(p, -n) end
return out
