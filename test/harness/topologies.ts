// Production Redis topologies on loopback, each started by the test file and stopped when it
// ends: Sentinel (master, replica, three sentinels), Cluster (three masters through
// `redis-cli --cluster create`) and TLS (a CA, server and client certificates made by openssl
// in a temp dir). Plain servers with an ACL user or maxmemory use startRedis and CONFIG/ACL.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { Redis } from "ioredis";
import { freePort, requireRedisServer, sigkill } from "./redis.ts";

export interface Node {
  port: number;
  address: string;
  /** SIGKILL, like a crash. */
  kill(): Promise<void>;
}

const tempDir = (what: string) => {
  const dir = mkdtempSync(join(tmpdir(), `agent-gateway-${what}-`));
  // This after() runs before the servers' own (registered first): a Sentinel still rewriting its
  // config then makes rmdir fail (ENOTEMPTY), and the directory goes at exit, the servers stopped.
  after(() => {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      process.once("exit", () => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));
    }
  });
  return dir;
};

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A plain client for the harness itself (not the gateway's factory). */
function admin(port: number, tls?: object): Redis {
  const client = new Redis({ port, host: "127.0.0.1", lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => 200, tls });
  client.on("error", () => {});
  return client;
}

async function answers(port: number, tls?: object): Promise<boolean> {
  const client = admin(port, tls);
  try {
    return (await client.ping()) === "PONG";
  } finally {
    client.disconnect();
  }
}

/** Spawns one redis-server (or sentinel) and stops it when the test file ends. */
async function spawnServer(args: string[], port: number, tls?: object): Promise<Node> {
  requireRedisServer();
  let child: ChildProcess | undefined = spawn("redis-server", args, { stdio: "ignore" });
  const kill = async () => {
    const dying = child;
    child = undefined;
    await sigkill(dying);
  };
  after(kill);
  process.once("exit", () => child?.kill("SIGKILL"));
  await until(`redis-server on port ${port}`, () => answers(port, tls));
  return { port, address: `127.0.0.1:${port}`, kill };
}

const BASE = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning", "--daemonize", "no"];

export interface SentinelSetup {
  sentinels: string[];
  name: string;
  master: Node;
  replica: Node;
  /** The current master's port, as the sentinels say. */
  masterPort(): Promise<number>;
  /** SENTINEL FAILOVER, resolved once the sentinels name the new master. */
  failover(): Promise<number>;
}

export async function startSentinel(name = "gw"): Promise<SentinelSetup> {
  const dir = tempDir("sentinel");
  const masterPort = await freePort();
  const master = await spawnServer(["--port", String(masterPort), "--dir", dir, ...BASE], masterPort);
  const replicaPort = await freePort();
  const replica = await spawnServer(["--port", String(replicaPort), "--dir", dir, "--replicaof", "127.0.0.1", String(masterPort), ...BASE], replicaPort);
  const sentinelPorts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [`port ${port}`, "bind 127.0.0.1", `dir ${dir}`, `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`, `sentinel down-after-milliseconds ${name} 1000`, `sentinel failover-timeout ${name} 4000`, ""].join("\n"),
    );
    await spawnServer([conf, "--sentinel"], port);
    sentinelPorts.push(port);
  }
  const sentinel = admin(sentinelPorts[0]!);
  after(() => sentinel.disconnect());
  const masterAt = async () => Number(((await sentinel.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)) as string[])[1]);
  const replicaClient = admin(replicaPort);
  after(() => replicaClient.disconnect());
  await until("the replica in sync", async () => /master_link_status:up/.test(await replicaClient.info("replication")));
  await until("sentinels see the replica and each other", async () => {
    const replicas = (await sentinel.call("SENTINEL", "REPLICAS", name)) as unknown[];
    const others = (await sentinel.call("SENTINEL", "SENTINELS", name)) as unknown[];
    return replicas.length === 1 && others.length === 2;
  });
  return {
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`),
    name,
    master,
    replica,
    masterPort: masterAt,
    failover: async () => {
      const before = await masterAt();
      await sentinel.call("SENTINEL", "FAILOVER", name);
      return until("the new master", async () => {
        const now = await masterAt();
        return now !== before && now;
      });
    },
  };
}

export interface ClusterSetup {
  nodes: string[];
}

/** Three masters, no replicas; the cluster bus takes port + 10000, so both must be free. */
export async function startCluster(): Promise<ClusterSetup> {
  const dir = tempDir("cluster");
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    if (port > 55_535 || ports.includes(port)) continue;
    ports.push(port);
  }
  for (const port of ports) {
    await spawnServer(["--port", String(port), "--dir", dir, "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), ...BASE], port);
  }
  const nodes = ports.map((p) => `127.0.0.1:${p}`);
  execFileSync("redis-cli", ["--cluster", "create", ...nodes, "--cluster-replicas", "0", "--cluster-yes"], { stdio: "ignore" });
  for (const port of ports) {
    await until(`cluster_state:ok on ${port}`, async () => {
      const client = admin(port);
      try {
        return /cluster_state:ok/.test((await client.call("CLUSTER", "INFO")) as string);
      } finally {
        client.disconnect();
      }
    });
  }
  return { nodes };
}

export interface TlsSetup {
  port: number;
  url: string;
  files: { ca: string; cert: string; key: string };
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

/** A private CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by it. */
function makeCertificates(dir: string): { ca: string; serverCert: string; serverKey: string; cert: string; key: string } {
  openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=gateway-test-ca", "-keyout", "ca.key", "-out", "ca.crt");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  for (const who of ["server", "client"]) {
    openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${who === "server" ? "localhost" : "gateway-client"}`, "-keyout", `${who}.key`, "-out", `${who}.csr`);
    openssl(dir, "x509", "-req", "-in", `${who}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-out", `${who}.crt`, ...(who === "server" ? ["-extfile", "san.ext"] : []));
  }
  const at = (file: string) => join(dir, file);
  return { ca: at("ca.crt"), serverCert: at("server.crt"), serverKey: at("server.key"), cert: at("client.crt"), key: at("client.key") };
}

/** redis-server speaking TLS only; with clientCerts it refuses clients without a certificate. */
export async function startTlsRedis({ clientCerts }: { clientCerts: boolean }): Promise<TlsSetup> {
  const dir = tempDir("tls");
  const pem = makeCertificates(dir);
  const port = await freePort();
  const args = ["--port", "0", "--tls-port", String(port), "--tls-cert-file", pem.serverCert, "--tls-key-file", pem.serverKey, "--tls-ca-cert-file", pem.ca, "--tls-auth-clients", clientCerts ? "yes" : "no", "--dir", dir, ...BASE];
  const tls = { ca: readFileSync(pem.ca), cert: readFileSync(pem.cert), key: readFileSync(pem.key) };
  await spawnServer(args, port, tls);
  return { port, url: `rediss://127.0.0.1:${port}`, files: { ca: pem.ca, cert: pem.cert, key: pem.key } };
}
