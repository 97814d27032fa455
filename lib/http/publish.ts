// POST /internal/publish: lets an app beside the hub push a frame to connected agents.
// Only callers on loopback (or the one address in VALENCE_PUBLISH_ALLOW) that did not come through a
// proxy are served, and when VALENCE_PUBLISH_TOKEN is set they must send it as a Bearer token.
import { z } from 'zod';
import type { HubConfig } from '../config.ts';
import type { Accounts } from '../domain/accounts.ts';
import { once, parseInput } from '../domain/context.ts';
import type { Gateway } from '../gateway/index.ts';
import { AppError, forbidden, unauthorized } from '../errors.ts';
import type { Call, Handler } from './core.ts';
import { sameSecret } from '../domain/util.ts';

/** The body of POST /internal/publish, made on first use. */
export const publishSchema = once(() =>
  z
    .object({
      userId: z.string().min(1).max(128).optional(),
      agentId: z.string().min(1).max(128).optional(),
      broadcast: z.boolean().optional(),
      frame: z.record(z.string(), z.unknown()).refine((f) => typeof f.type === 'string' && f.type.length > 0, { message: 'needs a string "type"' }),
    })
    .refine((b) => [b.userId, b.agentId, b.broadcast ? true : undefined].filter((x) => x !== undefined).length === 1, {
      message: 'name exactly one target: userId, agentId or broadcast: true',
    })
);

function isLoopback(addr: string): boolean {
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}

/**
 * A caller on loopback (or the VALENCE_PUBLISH_ALLOW address) whose request did not come through a
 * proxy: none of the headers a proxy adds (X-Forwarded-For, Forwarded, X-Real-IP). A proxy on the
 * same machine that adds none of them cannot be told from a local program: set VALENCE_PUBLISH_TOKEN.
 */
export function isLocalCaller(c: Call, cfg: HubConfig): boolean {
  const addr = c.req.socket.remoteAddress ?? '';
  const allowed = isLoopback(addr) || (cfg.publishHost !== '' && addr.replace(/^::ffff:/, '') === cfg.publishHost);
  const h = c.req.headers;
  return allowed && h['x-forwarded-for'] === undefined && h.forwarded === undefined && h['x-real-ip'] === undefined;
}

export function internalPublish(cfg: HubConfig, accounts: Accounts, gateway: Gateway): Handler {
  return async (c) => {
    if (!isLocalCaller(c, cfg)) throw forbidden('/internal/publish is served to loopback callers only.');
    if (cfg.publishToken) {
      const h = c.req.headers.authorization ?? '';
      if (!h.startsWith('Bearer ') || !sameSecret(h.slice(7), cfg.publishToken)) throw unauthorized('Send the publish token as "Authorization: Bearer <VALENCE_PUBLISH_TOKEN>".');
    }
    const v = parseInput(publishSchema(), await c.body());
    let userId = v.userId;
    if (v.agentId) {
      userId = accounts.agentUserId(v.agentId) ?? undefined;
      if (!userId) throw new AppError(404, 'agent_not_found', 'No agent with this id.');
    }
    const delivered = gateway.publish(v.broadcast ? { broadcast: true } : { userId }, v.frame);
    return { body: { ok: true, delivered } };
  };
}
