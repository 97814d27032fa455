// What every domain function works with: the database, the configuration, a way to reach connected
// workers, and the log. Transports build one Ctx and pass it to every domain module.
import type { Database } from '../storage/index.ts';
import type { HubConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { z } from 'zod';
import { invalidBody } from '../errors.ts';

export type Role = 'BUYER' | 'WORKER' | 'AGENT' | 'ADMIN';

/** Who is calling: resolved from an API key or a session cookie. */
export interface Principal {
  userId: string;
  role: Role;
  name: string;
  agentId?: string;
  maxConcurrent?: number;
  via: 'key' | 'session';
  /** Set for sessions: the token state-changing requests must echo in X-CSRF-Token. */
  csrfToken?: string;
  sessionHash?: string;
}

/** Live delivery to connected workers; the gateway provides it, the default reaches nobody. */
export interface Notifier {
  isConnected(userId: string): boolean;
  /** Sends a frame (an object, or its JSON text) to every socket of a worker; true when at least one socket took it. */
  push(userId: string, frame: Record<string, unknown> | string): boolean;
  /** Closes every socket of a worker whose key stopped being valid (rotated, revoked, disabled). */
  disconnect(userId: string): void;
}

export const nobody: Notifier = { isConnected: () => false, push: () => false, disconnect: () => {} };

export interface Ctx {
  db: Database;
  cfg: HubConfig;
  notifier: Notifier;
  log: Logger;
}

/** Validates input against a zod schema; failures become 400 invalid_body listing each field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what?: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw invalidBody(
    r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    what,
  );
}

/** The value of make(), made on the first call only. */
export function once<T>(make: () => T): () => T {
  let made = false;
  let value: T;
  return () => (made ? value : ((made = true), (value = make())));
}

/**
 * Zod schemas made on first use instead of at start-up (making every schema of the hub took about
 * 18 ms of its start): each property is made by its function the first time it is read.
 */
export function lazySchemas<T extends Record<string, () => z.ZodType>>(make: T): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const out = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const key of Object.keys(make) as (keyof T & string)[]) {
    const get = once(make[key]);
    Object.defineProperty(out, key, { enumerable: true, get });
  }
  return out;
}

/** An optional text field where "" means "none", as forms and hand-written curl send it. */
export const blankIsNull = <T extends z.ZodType>(schema: T) =>
  z.union([z.literal(''), schema], { message: 'must be a string' }).nullish().transform((v) => (v === '' ? null : v) as z.output<T> | null | undefined);
