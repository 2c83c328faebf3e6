#!/usr/bin/env node
// Container health check of the Hearth image: asks this container's service, through the
// standard gRPC health service (grpc.health.v1.Health/Check, whole-server name ''), for
// its status. Exit 0 only on SERVING, 1 otherwise — Docker's HEALTHCHECK contract.
//
// It loads only @grpc/grpc-js, grpc-health-check and @hearth/config (for the default
// ports), not @hearth/grpc, whose index also loads telemetry and the OpenTelemetry SDK:
// this runs every few seconds in every container.
import { credentials, makeClientConstructor } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { defaultGrpcPorts } from '@hearth/config';

const deadlineMs = 2_000;
const name = process.env.HEARTH_SERVICE ?? '';
// The same port rule as runService: HEARTH_GRPC_PORT, else the service's default port.
const port = process.env.HEARTH_GRPC_PORT || defaultGrpcPorts[name];
if (!port || port === '0') {
  console.error(`healthcheck: no gRPC port to check (HEARTH_SERVICE=${name}, HEARTH_GRPC_PORT=${process.env.HEARTH_GRPC_PORT ?? ''})`);
  process.exit(1);
}
// A wildcard bind is reachable on loopback; any other bind address is checked where it is.
const bindHost = process.env.HEARTH_GRPC_HOST || '127.0.0.1';
const host = bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost;
const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

const HealthClient = makeClientConstructor(healthService, 'grpc.health.v1.Health');
const client = new HealthClient(address, credentials.createInsecure());
client.check({ service: '' }, { deadline: Date.now() + deadlineMs }, (error, response) => {
  client.close();
  if (error) {
    console.error(`healthcheck: ${name} at ${address}: ${error.message}`);
    process.exit(1);
  }
  console.log(`healthcheck: ${name} at ${address}: ${response.status}`);
  process.exit(response.status === 'SERVING' ? 0 : 1);
});
