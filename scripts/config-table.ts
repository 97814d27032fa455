// Prints the hub's configuration table as Markdown (the README's table is this output).
import process from 'node:process';
import { OPTIONS } from '../lib/config.ts';

export function configTable(): string {
  const rows = OPTIONS.map((o) => `| \`${o.env}\` | ${o.default === '' ? '(unset)' : `\`${o.default}\``} | ${o.help.replace(/\|/g, '\\|')} |`);
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(configTable());
