/**
 * A PrismaPromise that answers from the cache. Prisma's read methods return
 * lazy promises: nothing runs until `then`, and `$transaction([...])` takes
 * them unrun and calls `requestTransaction` instead. This wrapper keeps both:
 * awaiting it runs the cached read once; handing it to `$transaction([...])`
 * hands over the original, uncached query, so reads inside a batch
 * transaction never touch the cache (consistency contract, item 3).
 */
import type { Prisma } from "@prisma/client/extension";

/** What `$transaction([...])` calls on each element; typed loosely as Prisma does not export it. */
interface TransactionCapable {
  requestTransaction?(batch: unknown): PromiseLike<unknown>;
  readonly spec?: unknown;
}

/**
 * @param run      the cached read; called at most once, on the first `then`/`catch`/`finally`
 * @param original the uncached PrismaPromise, created only if a transaction asks for it
 */
export function cachedPrismaPromise<T>(run: () => Promise<T>, original: () => Prisma.PrismaPromise<T>): Prisma.PrismaPromise<T> {
  let result: Promise<T> | undefined;
  const execute = (): Promise<T> => (result ??= run());
  const promise = {
    then<R1 = T, R2 = never>(onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null, onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2> {
      return execute().then(onFulfilled, onRejected);
    },
    catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
      return execute().catch(onRejected);
    },
    finally(onFinally?: (() => void) | null): Promise<T> {
      return execute().finally(onFinally);
    },
    requestTransaction(batch: unknown): PromiseLike<unknown> {
      const inner = original() as unknown as TransactionCapable & PromiseLike<unknown>;
      return inner.requestTransaction ? inner.requestTransaction(batch) : inner;
    },
    get spec(): unknown {
      return (original() as unknown as TransactionCapable).spec;
    },
    [Symbol.toStringTag]: "PrismaPromise" as const,
  };
  return promise as unknown as Prisma.PrismaPromise<T>;
}
