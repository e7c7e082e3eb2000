import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { echoingWorkload, everyFileUnder, secretCheck } from '../fixtures/echoed-secrets.js';
import { runCli, type CliResult } from '../fixtures/cli.js';

// The exporters' credentials are as secret as the Gemini key: an OTLP header (a Honeycomb team key,
// a Basic credential, URL-encoded as the variable takes it) and the Braintrust key. Here the
// collector and Braintrust refuse them and echo them in their answers, a second collector cannot be
// reached, and the Gemini API echoes them in an error: none may reach stdout, stderr, the store or
// the outputs, in the run or in the commands that read what it stored.
const TEAM_KEY = 'hcaik_01team5ecretvalue77';
const BASIC = 'b3RlbDpiYXNpYy1zZWNyZXQtOTk=';
const BRAINTRUST_KEY = 'sk-bt-distinct-4c2a9e71f0';
const SECRETS = [TEAM_KEY, BASIC, BRAINTRUST_KEY];

const expectNoSecret = secretCheck(SECRETS);

/** Answers every request 401 with the request's headers in the body, as a careless server might. */
async function startEchoingRefuser(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const body = JSON.stringify({ error: `refused: ${JSON.stringify(request.headers)}` });
      response.writeHead(401, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('OpenTelemetry header values and the Braintrust key are redacted like the Gemini key', () => {
  let emulator: RunningEmulator;
  let refuser: { url: string; close: () => Promise<void> };
  let root: string;
  let configPath: string;
  let echoed: string;
  let run: CliResult;
  let env: Record<string, string>;

  beforeAll(async () => {
    refuser = await startEchoingRefuser();
    ({ emulator, root, configPath, echoed } = await echoingWorkload(
      { max_retries: 0, poll_interval: 20 },
      `Proxy saw team ${TEAM_KEY}, basic ${BASIC}, braintrust ${BRAINTRUST_KEY}`,
    ));
    env = {
      GEMINI_API_KEY: 'wb-gemini-key-for-telemetry',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${refuser.url}/v1/traces`,
      // Nothing listens on port 9: the metrics exporter cannot connect at all.
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:9/v1/metrics',
      OTEL_EXPORTER_OTLP_HEADERS: `x-honeycomb-team=${TEAM_KEY},authorization=Basic%20${encodeURIComponent(BASIC)}`,
      BRAINTRUST_API_KEY: BRAINTRUST_KEY,
      BRAINTRUST_PROJECT: 'catalog',
      BRAINTRUST_APP_URL: refuser.url,
    };
    run = await runCli(['run', '-c', configPath], { env });
  });

  afterAll(async () => {
    await emulator.close();
    await refuser.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs on through refused and unreachable exporters, printing no secret', () => {
    expect(run.code, run.stderr).toBe(3); // finished with a dead letter
    expect(run.stderr).toContain(`dead letter ${echoed} [api_error]`);
    expect(run.stderr).toContain('Proxy saw team [redacted], basic [redacted], braintrust [redacted]');
    expectNoSecret('stdout', run.stdout);
    expectNoSecret('stderr', run.stderr);
  });

  it('stores nothing secret: not in the data dir, not in the outputs', () => {
    expectNoSecret('the data dir and the outputs', everyFileUnder(root));
  });

  it('prints no secret from the commands that read what was stored, nor from doctor', async () => {
    for (const command of [['failures'], ['failures', '--json'], ['doctor'], ['status', '--json']]) {
      const result = await runCli([...command, '-c', configPath], { env });
      expectNoSecret(command.join(' '), result.stdout + result.stderr);
    }
  });
});
