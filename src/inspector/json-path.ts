/** The path, under the inspector's mount point, of the JSON its page polls (and `prisma-query-cache advise` reads). */
export const INSPECTOR_JSON_PATH = "snapshot.json";
