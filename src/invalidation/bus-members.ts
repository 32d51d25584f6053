/**
 * The bus member list, `<prefix>bus:members`: one sorted set, so that on a
 * Cluster it lives in one slot and every script that touches it runs on one
 * node. It holds
 *
 * - the members: instance ids scored by lease expiry (server time, ms);
 * - `#seq`, the bus sequence, as a *negative* score (-1, -2, ...): every
 *   heartbeat and invalidation takes the next number, so a subscriber that
 *   missed a message sees a gap;
 * - `#born`, minus the server time (ms) at which this list was created.
 *
 * Member queries look at positive scores only (`(now, +inf)`), and expiring
 * members (`ZREMRANGEBYSCORE 0 now`) leaves the negative ones alone.
 *
 * Why `#born`: the list can vanish (a FLUSHDB, or an eviction: it has a TTL,
 * so `volatile-*` policies may pick it), and inside Redis a lost list looks
 * exactly like a fresh deployment. Members re-register at their next
 * heartbeat (every lease / 3); until then a writer that trusted the list
 * would wait for nobody while they still serve in-process entries. A member
 * missing from a list born at `born` last renewed before `born` (every
 * heartbeat since lists it again), so its lease ends before `born + lease`:
 * a list younger than one lease may be incomplete, an older one is not.
 * A re-created list also restarts `#seq`, which subscribers see as a gap.
 */

/**
 * Lua functions on the member list, prepended to every script that uses it
 * (the heartbeat, the bump, the Cluster announcement), so they agree on the
 * layout above.
 *
 * - `busBirth(key, nowMs)`: when the list was created, adding `#born` (now)
 *   when it has none (it was just created or re-created, or predates
 *   `#born`: taking it as new only makes writers more careful, for one lease).
 * - `busMembers(key, nowMs, leaseMs)`: drops expired members and returns the
 *   live ones, the longest lease left among them (ms), and how long the list
 *   stays younger than `leaseMs` (ms, 0 when it is older).
 * - `busSeq(key)`: the next bus sequence number.
 */
export const BUS_MEMBERS_LUA = `
local function busBirth(key, nowMs)
  local born = redis.call("ZSCORE", key, "#born")
  if born then return -tonumber(born) end
  redis.call("ZADD", key, -nowMs, "#born")
  return nowMs
end
local function busMembers(key, nowMs, leaseMs)
  local youngLeft = busBirth(key, nowMs) + leaseMs - nowMs
  redis.call("ZREMRANGEBYSCORE", key, "0", nowMs)
  local members = redis.call("ZRANGEBYSCORE", key, "(" .. nowMs, "+inf")
  local last = redis.call("ZRANGE", key, -1, -1, "WITHSCORES")
  local leaseLeft = 0
  if last[2] and tonumber(last[2]) > nowMs then leaseLeft = tonumber(last[2]) - nowMs end
  return members, leaseLeft, math.max(0, youngLeft)
end
local function busSeq(key)
  return -tonumber(redis.call("ZINCRBY", key, -1, "#seq"))
end
`;
