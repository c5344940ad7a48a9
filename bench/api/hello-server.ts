/**
 * The ceiling: a bare Fastify 5 "hello world" in its own process, on the same loopback as the
 * service. Started by run.ts (`node --import tsx bench/api/hello-server.ts`); reports its port over
 * IPC and exits on SIGTERM.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.send?.({ ready: true, port: typeof address === 'object' && address ? address.port : 0 });
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
