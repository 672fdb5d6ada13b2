"""The Redis scripts of the read model. Each runs atomically, so a reader never sees half an update.

A member's index is one sorted set, all scores 0, ordered by text: its members are paymentEventNos
zero-padded to 19 digits (text order = number order) and at most one *floor sentinel* ``f<19 digits>``
(it sorts after every digit string). The sentinel says "every paid event of this member numbered at or
above the floor is in this index" (``f0000000000000000000``: the whole history). Keeping it inside the
index key means an index and its completeness claim are created, expired, evicted and flushed together.

The claim is true only for a while: a PAYMENT_CONFIRM that never arrives (lost by the broker, parked in
a DLT) would otherwise stay missing until the index expires. So a sentinel counts only while the
member's *verified* key (``…:m:{member}:verified``, set with PX by ``FILL``) exists: ``PAGE`` needs both.
Only what order answered sets or renews it; consumed events never do. When it has expired, the next page
read asks order (one O6 call) and the first page it answers proves a fresh floor (which may be higher
than the old one: older stretches are proven again as they are read). A sentinel without its verified
key is dead; a verified key without a sentinel (the index expired or was evicted) proves nothing.
"""

from __future__ import annotations

COMMON = """
local ZERO = '0000000000000000000'
local function sentinel_of(index)
  return redis.call('ZRANGEBYLEX', index, '[f', '+', 'LIMIT', 0, 1)[1]
end
local function set_floor(index, sentinel, number)
  if sentinel then redis.call('ZREM', index, sentinel) end
  redis.call('ZADD', index, 0, 'f' .. number)
end
local function unpad(id)
  return (string.gsub(id, '^0+', ''))
end
-- keep the newest `size` ids; the floor rises to the lowest id kept when older ones are dropped
local function trim(index, size, ttl)
  local sentinel = sentinel_of(index)
  local n = redis.call('ZCARD', index)
  if sentinel then n = n - 1 end
  if n > size then
    redis.call('ZREMRANGEBYRANK', index, 0, n - size - 1)
    if sentinel then
      local lowest = redis.call('ZRANGE', index, 0, 0)[1]
      if lowest > string.sub(sentinel, 2) then set_floor(index, sentinel, lowest) end
    end
  end
  redis.call('PEXPIRE', index, ttl)
end
"""

# One PAYMENT_CONFIRM. KEYS: applied marker, model, index.
# ARGV: model JSON, padded paymentEventNo, index size, model TTL ms, applied-marker TTL ms.
# A duplicate event id changes nothing; a paid model is final (SET NX); the index never loses order.
APPLY = (
    COMMON
    + """
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[5]) then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[4])
redis.call('ZADD', KEYS[3], 0, ARGV[2])
trim(KEYS[3], tonumber(ARGV[3]), ARGV[4])
return 1
"""
)

# What order answered (an O6 page or an O7 detail). KEYS: index, epoch, verified.
# ARGV: epoch seen before asking order ('' = none), model key prefix, index size, model TTL ms,
#       the page's cursor ('' = first page), the floor the page proves ('' = none), how long the proof
#       holds in ms (the completeness TTL less the time since order was asked), then id/JSON pairs.
# Nothing is claimed when the keyspace was flushed or rebuilt since order was asked (another epoch).
# A first page proves everything from its floor up: when that covers the live claim (or there is none)
# it becomes the claim with a fresh expiry; a claim that already reaches lower is kept as it is. A later
# page joins a live claim when its cursor is at or above the floor: the floor goes down and the claim's
# expiry becomes the earlier of the two proofs'. A page below the floor, or without a live claim, moves
# nothing.
FILL = (
    COMMON
    + """
local ttl = ARGV[4]
for i = 8, #ARGV, 2 do
  redis.call('SET', ARGV[2] .. unpad(ARGV[i]), ARGV[i + 1], 'NX', 'PX', ttl)
  redis.call('ZADD', KEYS[1], 0, ARGV[i])
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local proof = tonumber(ARGV[7]) or 0
if ARGV[6] ~= '' and ARGV[1] ~= '' and proof > 0 and redis.call('GET', KEYS[2]) == ARGV[1] then
  local sentinel = sentinel_of(KEYS[1])
  local current = nil
  if sentinel and redis.call('EXISTS', KEYS[3]) == 1 then current = string.sub(sentinel, 2) end
  local new = ARGV[6]
  if ARGV[5] == '' then
    if not current or new <= current then
      if new ~= current then set_floor(KEYS[1], sentinel, new) end
      redis.call('SET', KEYS[3], '1', 'PX', proof)
    end
  elseif current and ARGV[5] >= current and new < current then
    set_floor(KEYS[1], sentinel, new)
    if proof < redis.call('PTTL', KEYS[3]) then redis.call('PEXPIRE', KEYS[3], proof) end
  end
end
trim(KEYS[1], tonumber(ARGV[3]), ttl)
return 1
"""
)

# One page, answered only when the index can prove it complete. KEYS: index, verified.
# ARGV: model key prefix, upper bound ('(:' = from the newest, '(<padded cursor>' = below it), limit.
# Returns the whole response body with its nextCursor, or false: no floor, the claim has expired (no verified
# key), the page reaches below the floor (unless the floor is the start of history), a full page whose next
# event the index cannot vouch for (nothing below it, and the floor is not the start of history), or a model in
# the page is missing (expired or evicted). Every id in the index is a paid event of the member, so one more id
# after a full page (even below the floor) proves a next page.
PAGE = (
    COMMON
    + """
local limit = tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
local sentinel = sentinel_of(KEYS[1])
if not sentinel then return false end
local floor = string.sub(sentinel, 2)
local ids = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[2], '-', 'LIMIT', 0, limit + 1)
local keys = {}
for i = 1, math.min(#ids, limit) do
  if ids[i] < floor then break end
  keys[#keys + 1] = ARGV[1] .. unpad(ids[i])
end
local more = #keys == limit and #ids > limit
if not more and floor ~= ZERO then return false end
local next_cursor = 'null'
if more then next_cursor = '"' .. unpad(ids[limit]) .. '"' end
if #keys == 0 then return '{"paymentEventList":[],"nextCursor":null}' end
local models = redis.call('MGET', unpack(keys))
for i = 1, #models do
  if not models[i] then return false end
end
return '{"paymentEventList":[' .. table.concat(models, ',') .. '],"nextCursor":' .. next_cursor .. '}'
"""
)

# The current epoch, created when missing. KEYS: epoch. ARGV: a fresh token.
EPOCH = """
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
"""
