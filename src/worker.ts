/**
 * Worker process entry: the BullMQ processors, job schedulers and the outbox relay, without the
 * HTTP API. Same as `TESSERA_ROLE=worker node dist/src/server.js`.
 */
process.env.TESSERA_ROLE = 'worker';
await import('./server.ts');
