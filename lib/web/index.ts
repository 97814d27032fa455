// The web pages (SPEC §8). Server-rendered HTML with a little plain JavaScript from /static/, no framework.
import type { Route } from '../http/core.ts';
import type { RouteDeps } from '../http/routes.ts';

export function webRoutes(_deps: RouteDeps): Route[] {
  return [];
}
