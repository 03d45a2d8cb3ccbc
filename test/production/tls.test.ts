// TLS with a private CA and client certificates made by openssl in the test: the CLI pushes
// and reads status over TLS given REDIS_TLS_*; a missing CA or client certificate is a
// configuration error (exit 78 naming the setting), never "unreachable" and never spooled.
import assert from "node:assert/strict";
import { test } from "node:test";
import { countSpooled } from "../../core/spool.ts";
import { cliHome } from "../harness/cli.ts";
import { startTlsRedis } from "../harness/topologies.ts";
import { join } from "node:path";

const server = await startTlsRedis({ clientCerts: true });
const certs = { REDIS_TLS_CA: server.files.ca, REDIS_TLS_CERT: server.files.cert, REDIS_TLS_KEY: server.files.key };

test("TLS with a CA and client certificates: push and status work over rediss://", async () => {
  const cli = cliHome(server.url, "tls");
  const pushed = await cli.run(["push", "tls.ok", "--source", "test"], { env: certs });
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.equal(pushed.stderr, "");
  const status = await cli.run(["status", "--json"], { env: certs });
  assert.equal(status.code, 0, status.stderr);
  const report = JSON.parse(status.stdout) as { inboxes: { session: string; backlog: number }[] };
  assert.equal(report.inboxes.find((i) => i.session === "gateway")?.backlog, 1);
});

test("a missing client certificate: exit 78 naming REDIS_TLS_CERT, nothing spooled", async () => {
  const cli = cliHome(server.url, "tls");
  const pushed = await cli.run(["push", "tls.nocert", "--source", "test"], { env: { REDIS_TLS_CA: server.files.ca } });
  assert.equal(pushed.code, 78, pushed.stderr);
  assert.match(pushed.stderr, /REDIS_TLS_CERT/);
  assert.doesNotMatch(pushed.stderr, /unreachable/);
  assert.equal(countSpooled(join(cli.home, "spool.jsonl")), 0);
});

test("a private CA not given: exit 78 saying to set REDIS_TLS_CA, nothing spooled", async () => {
  const cli = cliHome(server.url, "tls");
  const pushed = await cli.run(["push", "tls.noca", "--source", "test"], { env: { REDIS_TLS_CERT: server.files.cert, REDIS_TLS_KEY: server.files.key } });
  assert.equal(pushed.code, 78, pushed.stderr);
  assert.match(pushed.stderr, /set REDIS_TLS_CA/);
  assert.doesNotMatch(pushed.stderr, /unreachable/);
  assert.equal(countSpooled(join(cli.home, "spool.jsonl")), 0);
});
