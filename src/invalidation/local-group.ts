/**
 * Instances without Redis that share a `prefix` in one process share their
 * tag versions: one mirror, which is the authority without Redis, so a write
 * through any of them invalidates what every one of them holds, before it
 * resolves, exactly as instances sharing a Redis tier do through the bus
 * (consistency contract, item 1). Two clients built on the same prefix are
 * one cache as far as invalidation goes; give them different prefixes to
 * keep them apart.
 *
 * The registry holds its groups weakly: once every instance of a prefix is
 * garbage, so are its versions, and a later instance starts a new group
 * (there is no entry left that old versions could vouch for).
 */
import type { L1Tier } from "../tiers/l1-tier.js";
import { VersionMirror } from "./version-mirror.js";
import { LocalVersionStore } from "./version-store.js";

const groups = new Map<string, WeakRef<LocalVersionStore>>();
const collected = new FinalizationRegistry<string>((prefix) => {
  // Only if no newer group has taken the prefix since.
  if (groups.get(prefix)?.deref() === undefined) groups.delete(prefix);
});

/**
 * The version store of the in-process instances on `prefix`, created by the
 * first one. Its mirror (`store.mirror`) is shared by all of them; when it
 * starts over (too many tags), every member's in-process tier is cleared.
 *
 * @param l1 this instance's in-process tier, cleared with the others on a reset
 */
export function joinLocalGroup(prefix: string, l1: L1Tier | undefined): LocalVersionStore {
  let store = groups.get(prefix)?.deref();
  if (store === undefined) {
    const tiers = new Set<WeakRef<{ clear(): void }>>();
    const mirror = new VersionMirror(() => {
      for (const ref of tiers) {
        const tier = ref.deref();
        if (tier === undefined) tiers.delete(ref);
        else tier.clear();
      }
    });
    store = new LocalVersionStore(mirror, tiers);
    groups.set(prefix, new WeakRef(store));
    collected.register(store, prefix);
  }
  if (l1 !== undefined) store.members.add(new WeakRef(l1));
  return store;
}
