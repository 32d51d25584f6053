// Types of database.mjs, for the TypeScript callers (bench, examples, tests).
export declare const DEFAULT_DATABASE_NAME: string;
export declare const DEFAULT_DATABASE_URL: string;
export declare const DEFAULT_REDIS_URL: string;
export declare function readMigrations(provider: "postgresql" | "sqlite"): string[];
export declare function resetPostgres(url?: string): Promise<void>;
export declare function resetSqlite(file: string): Promise<void>;
export declare function clientsGenerated(): boolean;
