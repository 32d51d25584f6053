/** Generates the Conduit app's Prisma client (`npm run typecheck` needs its types; the benchmark generates it too). */
import { generateClient } from "./database.ts";

generateClient();
