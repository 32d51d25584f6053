/**
 * The one serialiser of the shared tier: superjson, with registrations for
 * the Prisma types plain superjson does not know. Every type a Prisma result
 * can hold comes back with the same type and value as an uncached query:
 * Date, BigInt (superjson built-ins), Decimal (`Prisma.Decimal`), Bytes
 * (`Uint8Array`), and Json values (plain JSON).
 */
import { Decimal } from "@prisma/client/runtime/client";
import { SuperJSON } from "superjson";

const serializer = new SuperJSON();

serializer.registerCustom<Decimal, string>(
  {
    isApplicable: (value): value is Decimal => Decimal.isDecimal(value),
    serialize: (value) => value.toJSON(),
    deserialize: (text) => new Decimal(text),
  },
  "prisma.Decimal",
);

serializer.registerCustom<Uint8Array, string>(
  {
    // Prisma 7 returns Bytes as Uint8Array; a Buffer is one too and comes back as a plain Uint8Array.
    isApplicable: (value): value is Uint8Array => value instanceof Uint8Array,
    serialize: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
    deserialize: (text) => new Uint8Array(Buffer.from(text, "base64")),
  },
  "prisma.Bytes",
);

/** Serialises a query result to text. Throws for values superjson cannot represent. */
export function serialize(value: unknown): string {
  return serializer.stringify(value);
}

/** Inverse of {@link serialize}. */
export function deserialize<T>(text: string): T {
  return serializer.parse<T>(text);
}
