// GET /metrics in the Prometheus text format: request counts and durations per route, and the
// hub's state (tasks, offers, assignments by status, connected agents) read at scrape time.
import process from 'node:process';
import type { Database } from '../storage/index.ts';

export interface Metrics {
  /** Called once per answered request; route is the pattern (or "unmatched"). */
  record(method: string, route: string, status: number, seconds: number): void;
  render(): string;
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function createMetrics(db: Database, connected: () => { agents: number; sockets: number }): Metrics {
  // By route, then method, then status: the route and method strings are the route table's own, so
  // each lookup hashes nothing new (a "METHOD route status" key string cost about 3 µs a request).
  const requests: { method: string; route: string; status: number; count: number; seconds: number }[] = [];
  const index = new Map<string, Map<string, Map<number, (typeof requests)[number]>>>();
  const byStatus = {
    tasks: db.prepare(`SELECT status, COUNT(*) AS n FROM tasks GROUP BY status`),
    // With the offers of a match whose rows are not written yet (lib/domain/batches.ts): PENDING.
    offers: db.prepare(
      `SELECT status, SUM(n) AS n FROM (
         SELECT status, COUNT(*) AS n FROM match_offers GROUP BY status
         UNION ALL SELECT 'PENDING', SUM(json_array_length(offers)) FROM offer_batches
       ) WHERE n IS NOT NULL GROUP BY status`,
    ),
    assignments: db.prepare(`SELECT status, COUNT(*) AS n FROM assignments GROUP BY status`),
    users: db.prepare(`SELECT role AS status, COUNT(*) AS n FROM users WHERE disabled = 0 GROUP BY role`),
  };
  const started = Date.now();

  return {
    record(method, route, status, seconds) {
      let byMethod = index.get(route);
      if (!byMethod) index.set(route, (byMethod = new Map()));
      let counters = byMethod.get(method);
      if (!counters) byMethod.set(method, (counters = new Map()));
      const m = counters.get(status);
      if (m) {
        m.count++;
        m.seconds += seconds;
      } else {
        const fresh = { method, route, status, count: 1, seconds };
        counters.set(status, fresh);
        requests.push(fresh);
      }
    },
    render() {
      const out: string[] = [];
      const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      family('valence_http_requests_total', 'counter', 'HTTP requests answered, by method, route and status.');
      for (const m of requests) out.push(`valence_http_requests_total{method="${m.method}",route="${esc(m.route)}",status="${m.status}"} ${m.count}`);
      family('valence_http_request_seconds_total', 'counter', 'Time spent answering HTTP requests, by method, route and status.');
      for (const m of requests) out.push(`valence_http_request_seconds_total{method="${m.method}",route="${esc(m.route)}",status="${m.status}"} ${m.seconds.toFixed(6)}`);
      const state: [string, string, keyof typeof byStatus, string][] = [
        ['valence_tasks', 'Tasks by status.', 'tasks', 'status'],
        ['valence_offers', 'Offers by status.', 'offers', 'status'],
        ['valence_assignments', 'Assignments by status.', 'assignments', 'status'],
        ['valence_users', 'Active users by role.', 'users', 'role'],
      ];
      for (const [name, help, q, label] of state) {
        family(name, 'gauge', help);
        for (const r of byStatus[q].all()) out.push(`${name}{${label}="${esc(String(r.status))}"} ${r.n}`);
      }
      const c = connected();
      family('valence_agents_connected', 'gauge', 'Agents with at least one authenticated socket.');
      out.push(`valence_agents_connected ${c.agents}`);
      family('valence_agent_sockets', 'gauge', 'Authenticated agent sockets.');
      out.push(`valence_agent_sockets ${c.sockets}`);
      const mem = process.memoryUsage();
      family('process_resident_memory_bytes', 'gauge', 'Resident memory of the hub process.');
      out.push(`process_resident_memory_bytes ${mem.rss}`);
      family('valence_heap_used_bytes', 'gauge', 'JavaScript heap in use.');
      out.push(`valence_heap_used_bytes ${mem.heapUsed}`);
      family('valence_uptime_seconds', 'gauge', 'Seconds since the hub started.');
      out.push(`valence_uptime_seconds ${Math.round((Date.now() - started) / 1000)}`);
      return out.join('\n') + '\n';
    },
  };
}
