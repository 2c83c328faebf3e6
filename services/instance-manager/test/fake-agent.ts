/**
 * A stand-in for the agent that keeps the agent's process contract (env in,
 * JSON ready line with the gRPC address — and a metrics address — out, heartbeats on
 * `instance.<id>.heartbeat`, exit 0 on SIGTERM) and misbehaves on request,
 * chosen by the instance id:
 *
 * - `…stuck…`: never prints its ready line;
 * - `…crash…`: prints `boom` and exits with code 3 before it is ready;
 * - `…mute…`: becomes ready but never sends a heartbeat.
 *
 * It starts a `sleep` child in its process group (an EE stand-in) and writes
 * `agent.json` (its pid, the child's pid, the environment it got) into its
 * work directory `<HEARTH_DATA_DIR>/instances/<id>/`, as the real agent
 * does, so tests can check that nothing outlives an instance.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Heartbeat interval of the fake (faster than the real agent's 1 s, so tests can use a short timeout). */
export const fakeHeartbeatIntervalMs = 250;

/** What the fake agent writes to `<HEARTH_DATA_DIR>/instances/<id>/agent.json`. */
export interface FakeAgentReport {
  pid: number;
  childPid: number;
  env: Record<string, string | undefined>;
}

/** Writes the fake agent script into `dir` and returns its path. */
export function writeFakeAgent(dir: string): string {
  const natsUrl = pathToFileURL(createRequire(import.meta.url).resolve('@nats-io/transport-node')).href;
  const script = `
import nats from ${JSON.stringify(natsUrl)};
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const id = process.env.HEARTH_INSTANCE_ID;
const prefix = process.env.HEARTH_NATS_PREFIX;
const log = (fields) => console.log(JSON.stringify({ level: 'info', service: 'agent', ...fields }));
log({ msg: 'fake agent starting', instanceId: id });
if (id.includes('crash')) {
  console.error('boom');
  process.exit(3);
}
const child = spawn('sleep', ['600'], { stdio: 'ignore' });
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('HEARTH_') || k.startsWith('OTEL_') || k === 'NATS_URL' || k === 'DATABASE_URL'));
writeFileSync(join(process.env.HEARTH_DATA_DIR, 'instances', id, 'agent.json'), JSON.stringify({ pid: process.pid, childPid: child.pid, env }));
const nc = await nats.connect({ servers: process.env.NATS_URL });
const server = createServer((socket) => socket.end());
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
let timer;
process.once('SIGTERM', async () => {
  log({ msg: 'SIGTERM: stopping environments' });
  clearInterval(timer);
  child.kill('SIGTERM');
  server.close();
  await nc.close();
  process.exit(0);
});
if (id.includes('stuck')) {
  log({ msg: 'never getting ready' });
} else {
  // The metrics address only has to be of the right shape: what the instance-manager lists for Prometheus.
  log({ event: 'service.ready', grpc: '127.0.0.1:' + server.address().port, metrics: '127.0.0.1:' + (server.address().port + 1), msg: 'agent ready' });
  if (!id.includes('mute')) {
    const beat = () => nc.publish(prefix + '.live.instance.' + id + '.heartbeat', JSON.stringify({ instanceId: id, at: Date.now(), environments: [] }));
    beat();
    timer = setInterval(beat, ${fakeHeartbeatIntervalMs});
  }
}
`;
  const path = join(dir, 'fake-agent.mjs');
  writeFileSync(path, script);
  return path;
}
