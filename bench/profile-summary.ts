/**
 * Summarises a V8 .cpuprofile (from `PROFILE=1 npx tsx bench/incidents.ts`, written to
 * bench/results/profiles/): self time by package / source file and the top functions. The profile
 * covers the whole process life, module loading at start included.
 *   npx tsx bench/profile-summary.ts bench/results/profiles/CPU.*.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const totalUs = profile.endTime - profile.startTime;

/** `node_modules/<pkg>` (scoped too), `src/<dir>/<file>`, `node:<module>`, or the V8 pseudo frames. */
function area(url: string, name: string): string {
  if (!url) return `(${name || 'native'})`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

const areas = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)') continue;
  const a = area(url, functionName);
  areas.set(a, (areas.get(a) ?? 0) + us);
  const f = `${functionName || '(anonymous)'} ${a}:${lineNumber + 1}`;
  functions.set(f, (functions.get(f) ?? 0) + us);
}
const sampled = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = [...selfUs]
  .filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)')
  .reduce((a, [, us]) => a + us, 0);
const pct = (us: number) => `${((100 * us) / (sampled - idle || 1)).toFixed(1)}%`.padStart(6);
const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title} (share of non-idle samples)\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    if (key !== '((idle))')
      process.stdout.write(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}\n`);
};
process.stdout.write(
  `${file}: ${(totalUs / 1e6).toFixed(1)} s profiled, ${((sampled - idle) / 1e6).toFixed(1)} s on CPU (not idle)\n`,
);
print('self time by package / file', areas);
print('self time by function', functions);
