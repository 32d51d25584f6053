/**
 * Stale reads around a Redis Sentinel failover (issue 12, scope 7): `SENTINEL_ROUNDS` (default 6) failovers of a
 * private master/replica/sentinel set-up, each under the load of test/helpers/failover-load.ts (two instances, one
 * writing a row every 50 ms, both reading it through the cache). Prints, per round, the stale reads in the first 3 s
 * (while the instances may be on different masters) and after, and the window they spanned (ms after the failover
 * began). Needs Postgres (DATABASE_URL, default: the test database) and the redis-server binary.
 */
import { loadavg } from "node:os";
import { postgresClient } from "../test/helpers/clients.ts";
import { failoverUnderLoad, untilReplicaInSync } from "../test/helpers/failover-load.ts";
import { createScratchUser, removeFixture, seedFixture } from "../test/helpers/fixture.ts";
import { freePort } from "../test/helpers/redis-server.ts";
import { startSentinelSetup } from "../test/helpers/redis-sentinel.ts";
import { ensurePostgresSchema } from "../test/helpers/services.ts";

const rounds = Number(process.env.SENTINEL_ROUNDS ?? 6);
await ensurePostgresSchema();
const bare = postgresClient();
const fixture = await seedFixture(bare, "sentinel-bench", "1234567.125");
const setup = await startSentinelSetup({
  master: await freePort(),
  replica: await freePort(),
  sentinel: await freePort(),
});
console.log(`sentinel failovers under load: ${rounds} rounds, load ${loadavg()[0]!.toFixed(1)}`);
let totalDuring = 0;
let totalAfter = 0;
let withStale = 0;
try {
  for (let round = 1; round <= rounds; round++) {
    await untilReplicaInSync(setup);
    const row = await createScratchUser(bare, fixture, `sentinel-${round}`);
    const outcome = await failoverUnderLoad(setup, bare, row.id, `pqc-sentinel-bench-${round}:`);
    const during = outcome.staleDuring;
    totalDuring += during.length;
    totalAfter += outcome.staleAfter.length;
    if (during.length > 0) withStale++;
    const window = during.length === 0 ? "-" : `${during[0]!.ms}-${during[during.length - 1]!.ms} ms`;
    const oldest = during.reduce((max, s) => (s.known - s.got > max ? s.known - s.got : max), 0n);
    console.log(
      `round ${round}: moved ${outcome.moved}, stale in the first 3 s ${during.length} (window ${window}, up to ${oldest} writes behind), after ${outcome.staleAfter.length}; ${outcome.writes} writes, failures ${outcome.failures.length}, reported ${outcome.reported.length}`,
    );
  }
} finally {
  await setup.stop();
  await removeFixture(bare, fixture);
  await bare.$disconnect();
}
console.log(
  `total: stale reads ${totalDuring} in the first 3 s (${withStale} of ${rounds} rounds), ${totalAfter} after; load ${loadavg()[0]!.toFixed(1)}`,
);
