-- complete: ARGV[3] now (hex), then pairs (key, token hex). Answers {'ok',
-- r1, r2, ...} with 1 for each entry removed and 0 for each whose token no
-- longer holds it (changed nothing).
local now = ARGV[3]
local keys, tokens = {}, {}
for j = 4, #ARGV - 1, 2 do
  keys[#keys + 1] = ARGV[j]; tokens[#tokens + 1] = ARGV[j + 1]
end
local recs = chunked('HMGET', ENTRIES, keys)
local out = {'ok'}
local dec, dels, rem, gone = {}, {}, {}, {}
for j = 1, #keys do
  local k = keys[j]
  local e = nil
  -- a key listed twice: the first removes it, the second finds nothing
  if not gone[k] then e = held_record(recs[j], tokens[j], now) end
  if e then
    gone[k] = true
    dels[#dels + 1] = k
    rem[#rem + 1] = lease_member(e, k)
    dec[e.p] = (dec[e.p] or 0) + 1
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
if #dels > 0 then
  chunked('HDEL', ENTRIES, dels)
  chunked('HDEL', ITEMS, dels)
  chunked('ZREM', LEASES, rem)
  for p, n in pairs(dec) do count_add(p, -n) end
end
return out
