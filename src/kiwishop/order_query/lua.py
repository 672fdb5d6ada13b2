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

Cancels: an event's canceled lines are a set of its own (``…:pe:{number}:canceled``, paymentOrderNos), kept
whether or not the model is there yet, and ``render`` rewrites a model from it — in every script that writes
a model (APPLY, FILL, CANCEL), so a model always shows every cancel seen, whichever came first. The model is
this service's own JSON (``store.model_json``, no spaces, each line ``{"paymentOrderNo":…,"productNo":…,
"amount":…,"status":"…"`` in that order, quotes inside strings escaped), so a line's status is found by its
number, and the summary fields (``domain.summarized``) are cut off and written again from the lines.

The paymentKey: order shows it to ops only, so a model filled from a member's answer has it null. ``keyed``
fills it in from a later write of the same event that has it (the PAYMENT_CONFIRM, usually consumed moments
later, or an ops read's refill), in APPLY and FILL; nothing else of a stored model changes.

Seller sales (``sales.py``): APPLY counts an event's lines once per order (its ``…:sold`` marker), CANCEL
each line once (the first time it enters the canceled set); amounts in cents, by HINCRBY.
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
local LINE = '({"paymentOrderNo":(%d+),"productNo":%d+,"amount":)(%-?%d+)%.(%d%d)(,"status":")([%u_]+)"'
-- the model at `key` with the lines in `canceled` (a set) CANCELED and its summary written again
local function render(key, canceled)
  local model = redis.call('GET', key)
  if not model then return end
  local given_back = {}
  for _, number in ipairs(redis.call('SMEMBERS', canceled)) do given_back[number] = true end
  local cut = string.find(model, ',"orderStatus":"', 1, true)
  if cut then model = string.sub(model, 1, cut - 1) .. '}' end
  local lines, count, cents = 0, 0, 0
  model = string.gsub(model, LINE, function(head, number, whole, fraction, middle, status)
    lines = lines + 1
    if given_back[number] then status = 'CANCELED' end
    if status == 'CANCELED' then
      count = count + 1
      cents = cents + tonumber(whole .. fraction)
    end
    return head .. whole .. '.' .. fraction .. middle .. status .. '"'
  end)
  if count > 0 then
    local state = 'PARTIAL_CANCELED'
    if count == lines then state = 'CANCELED' end
    local amount = string.format('%d.%02d', math.floor(cents / 100), cents % 100)
    model = string.sub(model, 1, -2) .. ',"orderStatus":"' .. state .. '","canceledAmount":' .. amount .. '}'
  end
  redis.call('SET', key, model, 'KEEPTTL')
end
-- the model at `key`, stored without its paymentKey (a member's view), takes the key `body` (the same event) has
local function keyed(key, body)
  local value = string.match(body, '"paymentKey":("[%w_%-]+")')
  if not value then return end
  local model = redis.call('GET', key)
  if not model then return end
  local at = string.find(model, '"paymentKey":null', 1, true)
  if not at then return end
  model = string.sub(model, 1, at - 1) .. '"paymentKey":' .. value .. string.sub(model, at + 17)
  redis.call('SET', key, model, 'KEEPTTL')
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

# One PAYMENT_CONFIRM. KEYS: applied marker, model, index, canceled set, sold marker, rebuild fence, then the
# seller sales hash of each line. ARGV: model JSON, padded paymentEventNo, index size, model TTL ms,
# applied-marker TTL ms, then per line: productNo, cents, productName.
# While a rebuild clears the keys (the fence exists) nothing changes: -1. A duplicate event id changes nothing;
# a paid model is final (SET NX) but for the cancels seen (render) and a missing paymentKey (keyed); the index never
# loses order; an order's
# lines count in the sales once, whatever its event ids.
APPLY = (
    COMMON
    + """
if redis.call('EXISTS', KEYS[6]) == 1 then return -1 end
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[5]) then return 0 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[4]) then keyed(KEYS[2], ARGV[1]) end
if redis.call('EXISTS', KEYS[4]) == 1 then render(KEYS[2], KEYS[4]) end
redis.call('ZADD', KEYS[3], 0, ARGV[2])
trim(KEYS[3], tonumber(ARGV[3]), ARGV[4])
if #KEYS > 6 and redis.call('SET', KEYS[5], '1', 'NX', 'PX', ARGV[4]) then
  for i = 7, #KEYS do
    local at = 6 + 3 * (i - 7)
    redis.call('HINCRBY', KEYS[i], ARGV[at] .. ':paidCount', 1)
    redis.call('HINCRBY', KEYS[i], ARGV[at] .. ':paidCents', ARGV[at + 1])
    redis.call('HSET', KEYS[i], ARGV[at] .. ':name', ARGV[at + 2])
  end
end
return 1
"""
)

# One PAYMENT_CANCELED. KEYS: applied marker, model, canceled set, rebuild fence, then the seller sales hash
# of each line. ARGV: applied-marker TTL ms, model TTL ms, then per line: paymentOrderNo, productNo, cents.
# While the fence exists nothing changes: -1. A duplicate event id changes nothing; a line already canceled (by
# another event) counts no second time; a cancel before its model is kept in the set and shown once the model
# arrives (APPLY, FILL).
CANCEL = (
    COMMON
    + """
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
for i = 5, #KEYS do
  local at = 3 + 3 * (i - 5)
  if redis.call('SADD', KEYS[3], ARGV[at]) == 1 then
    redis.call('HINCRBY', KEYS[i], ARGV[at + 1] .. ':canceledCount', 1)
    redis.call('HINCRBY', KEYS[i], ARGV[at + 1] .. ':canceledCents', ARGV[at + 2])
  end
end
redis.call('PEXPIRE', KEYS[3], ARGV[2])
render(KEYS[2], KEYS[3])
return 1
"""
)

# What order answered (an O6 page or an O7 detail). KEYS: index, epoch, verified.
# ARGV: epoch seen before asking order ('' = none), model key prefix, index size, model TTL ms,
#       the page's cursor ('' = first page), the floor the page proves ('' = none), how long the proof
#       holds in ms (the completeness TTL less the time since order was asked), then id/JSON pairs.
# A model is stored only where there is none (and shows the cancels already seen: ``{model}:canceled``); one
# already there only takes a paymentKey it lacks (keyed).
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
  local model = ARGV[2] .. unpad(ARGV[i])
  if not redis.call('SET', model, ARGV[i + 1], 'NX', 'PX', ttl) then
    keyed(model, ARGV[i + 1])
  elseif redis.call('EXISTS', model .. ':canceled') == 1 then
    render(model, model .. ':canceled')
  end
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

# Unlink keys only while this clear still holds the fence (renewing it). KEYS: fence, then the keys.
# ARGV: the fence's token, its TTL ms. Returns the number removed, or -1 when the fence was lost.
UNLINK_FENCED = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if #KEYS == 1 then return 0 end
return redis.call('UNLINK', unpack(KEYS, 2))
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# The current epoch, created when missing. KEYS: epoch. ARGV: a fresh token.
EPOCH = """
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
"""
