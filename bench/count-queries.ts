/**
 * Preloaded into the benchmarked servers (`node --import ./bench/count-queries.ts`): counts the
 * queries the process sends to PostgreSQL, and prints the count on SIGUSR2 as one JSON line
 * (`{"benchQueryCount": n}`), so the benchmark can report queries per request.
 */
import pg from 'pg';

let count = 0;
const original = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  count++;
  return (original as (...a: unknown[]) => unknown).apply(this, args);
} as typeof original;
process.on('SIGUSR2', () => {
  process.stderr.write(`${JSON.stringify({ benchQueryCount: count })}\n`);
});
