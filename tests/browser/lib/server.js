// Starts the real `nongzi serve --demo` in a fresh temporary directory (its SQLite file and JWT
// key land there), waits for /healthz, and reads the demo logins it prints on stdout.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { createWriteStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const browserDir = path.resolve(here, '..');
export const repoRoot = path.resolve(browserDir, '..', '..');
export const outDir = path.join(browserDir, 'out');

export function serverBinary() {
  return process.env.NONGZI_BIN
    ? path.resolve(process.env.NONGZI_BIN)
    : path.join(repoRoot, 'target', 'debug', 'nongzi');
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A line of `print_demo_logins`: `  {role:<16} {phone}  {password:<18} {name}`, where role is
// e.g. `FARMER` or `DEALER (OWNER)`.
const LOGIN_LINE = /^\s{2}([A-Z_]+(?: \([A-Z_]+\))?)\s+(1\d{10})\s+(\S+)\s+(.+?)\s*$/;
const TRACE_LINE = /trace page:\s+(\S+)/;

/** Parses what `serve --demo` printed: the logins and the sample trace codes. */
export function parseDemoOutput(text) {
  const logins = [];
  const traceUrls = [];
  for (const line of text.split(/\r?\n/)) {
    const m = LOGIN_LINE.exec(line);
    if (m) {
      const [, roleText, phone, password, name] = m;
      const rm = /^([A-Z_]+)(?: \(([A-Z_]+)\))?$/.exec(roleText);
      logins.push({ role: rm[1], dealerRole: rm[2] ?? null, phone, password, name });
      continue;
    }
    const t = TRACE_LINE.exec(line);
    if (t) traceUrls.push(t[1]);
  }
  const traceCodes = traceUrls.map((u) => decodeURIComponent(new URL(u).pathname.replace(/^\/t\//, '')));
  return { logins, traceCodes };
}

let serverCount = 0;

/**
 * Starts the server. Returns { baseURL, logins, traceCodes, login(role, i), stop(), dir, stdout }.
 * `opts.env` adds environment variables.
 */
export async function startServer(opts = {}) {
  const bin = serverBinary();
  if (!existsSync(bin)) {
    throw new Error(`server binary ${bin} is missing: run \`cargo build -p nongzi --bin nongzi\` (or set NONGZI_BIN)`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'nongzi-browser-'));
  const port = await freePort();
  const bind = `127.0.0.1:${port}`;
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info,sqlx=warn,sea_orm=warn', ...opts.env };
  // The demo server uses SQLite in its own directory; nothing from the caller's setup leaks in.
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'NONGZI_BIND', 'NONGZI_JWT_SECRET']) delete env[k];
  await mkdir(path.join(outDir, 'logs'), { recursive: true });
  const n = ++serverCount;
  const tag = `${path.basename(process.argv[1] ?? 'suite', '.js')}-${process.pid}-${n}`;
  const log = createWriteStream(path.join(outDir, 'logs', `server-${tag}.log`));
  const child = spawn(bin, ['serve', '--demo', '--bind', bind], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let exited = null;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    stdout += d;
    log.write(d);
  });
  child.stderr.on('data', (d) => log.write(d));
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });

  const baseURL = `http://${bind}`;
  const deadline = Date.now() + Number(process.env.NONGZI_START_TIMEOUT_MS ?? 60_000);
  let healthy = false;
  while (Date.now() < deadline) {
    if (exited) break;
    try {
      const r = await fetch(`${baseURL}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) {
        healthy = true;
        break;
      }
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  if (!healthy) {
    child.kill('SIGKILL');
    throw new Error(
      `nongzi did not answer /healthz on ${baseURL} (${exited ? `exited ${JSON.stringify(exited)}` : 'timeout'}); ` +
        `see ${path.join(outDir, 'logs', `server-${tag}.log`)}\n${stdout.slice(-2000)}`,
    );
  }
  // The logins are printed before the server listens; give the pipe a moment to deliver them.
  let parsed = parseDemoOutput(stdout);
  // The block ends with an empty line after the trace pages.
  for (let i = 0; i < 50 && (parsed.logins.length === 0 || !/trace page[^\n]*\n\s*\n\s*$/.test(stdout)); i++) {
    await sleep(100);
    parsed = parseDemoOutput(stdout);
  }
  if (parsed.logins.length === 0) {
    child.kill('SIGKILL');
    throw new Error(`nongzi serve --demo printed no demo logins:\n${stdout}`);
  }

  const server = {
    baseURL,
    dir,
    port,
    logins: parsed.logins,
    traceCodes: parsed.traceCodes,
    get stdout() {
      return stdout;
    },
    /** The i-th printed login of a role (FARMER, DEALER, STATION_KEEPER, ...), or undefined. */
    login(role, i = 0) {
      return parsed.logins.filter((l) => l.role === role)[i];
    },
    logins_of(role) {
      return parsed.logins.filter((l) => l.role === role);
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(t);
      }
      log.end();
      if (!process.env.NONGZI_KEEP_TMP) await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}
