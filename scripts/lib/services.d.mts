// Types of services.mjs, for the TypeScript callers (the vitest global set-up and its tests).
/** A service the tests use. */
export type ServiceKey = "postgres" | "redis";
/** Where one service comes from: the environment's URL, a container started for the run, or the local default. */
export type ServiceChoice = { source: "env"; url: string } | { source: "container" } | { source: "local"; url: string };
/** Where each service comes from. */
export type ServicePlan = Record<ServiceKey, ServiceChoice>;
export declare const START_COMMANDS: Record<ServiceKey, string>;
export declare function needsRuntimeProbe(env: Record<string, string | undefined>): boolean;
export declare function planServices(input: {
  env: Record<string, string | undefined>;
  runtimeReachable: boolean;
}): ServicePlan;
export declare function describePlan(plan: ServicePlan, urls?: Partial<Record<ServiceKey, string>>): string;
export declare function redactUrl(url: string): string;
export declare function containerRuntimeReachable(): Promise<boolean>;
export declare function planForEnvironment(env?: Record<string, string | undefined>): Promise<ServicePlan>;
export declare function unreachableMessage(service: ServiceKey, url: string, cause?: unknown): string;
export declare function checkPostgres(url: string): Promise<void>;
export declare function checkRedis(url: string): Promise<void>;
export declare class ServiceUnreachableError extends Error {
  constructor(service: ServiceKey, url: string, cause?: unknown);
  readonly service: ServiceKey;
  readonly url: string;
}
