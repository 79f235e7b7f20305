/**
 * Real HTTP/2 servers from Debian for interop tests: nghttpd, nginx, apache2
 * (mod_http2) and h2o. Each runs in the foreground as the test's user, with
 * its own configuration, pid file and logs in a temp dir (never /etc or
 * /var), on free ports, and is stopped by its process id. A program that is
 * not installed makes start() throw an error naming it (tests fail, never skip).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { alive, childPids, freePort, holdsSocket, killIfSame, listeningInodes, startTime } from './h2serve.js';

const PACKAGES: Record<string, string> = { nghttpd: 'nghttp2-server', nginx: 'nginx', apache2: 'apache2', h2o: 'h2o', openssl: 'openssl' };

/** The path of `program` on PATH or in the sbin directories; throws naming it (and its Debian package) when missing. */
export function findProgram(program: string): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (d && existsSync(join(d, program))) return join(d, program);
  }
  throw new Error(`this test needs '${program}', which is not installed (Debian package ${PACKAGES[program] ?? program}; .ci/run installs it)`);
}

const isRoot = process.getuid?.() === 0;

/** Who apache2's children run as when it is started by root (it refuses to serve as root). */
function unprivilegedUser(): { user: string; group: string } {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // no passwd: the defaults below
  }
  return /^www-data:/m.test(passwd) ? { user: 'www-data', group: 'www-data' } : { user: 'nobody', group: 'nogroup' };
}

/** A temp dir the server's unprivileged children can read (mkdtemp makes 0700). */
export function peerDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `h2kit-${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** A directory anybody may write to (a server's upload target, when its children drop privileges). */
function writableDir(path: string): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o777);
  return path;
}

const running = new Set<Peer>();
process.once('exit', () => {
  for (const p of running) p.killNow();
});

/** A server process we started: its ports, its output, stop() by pid. */
export class Peer {
  private readonly output: Buffer[] = [];
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;
  /** Every process of its tree seen so far (apache2 and h2o fork). */
  private readonly tree = new Map<number, string | null>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly ports: number[],
    readonly dir: string,
    private readonly logFiles: string[],
  ) {
    child.stdout?.on('data', (b: Buffer) => this.keep(b));
    child.stderr?.on('data', (b: Buffer) => this.keep(b));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
    this.tree.set(child.pid!, startTime(child.pid!));
    running.add(this);
  }

  get pid(): number {
    return this.child.pid!;
  }
  get port(): number {
    return this.ports[0]!;
  }
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exitInfo;
  }

  private keep(b: Buffer): void {
    this.output.push(b);
    // Keep the last 256 KiB: for error messages only.
    while (this.output.length > 1 && this.output.reduce((n, x) => n + x.length, 0) > 256 << 10) this.output.shift();
  }

  /** What it printed and logged (for error messages). */
  log(): string {
    let s = Buffer.concat(this.output).toString('utf8');
    for (const f of this.logFiles) {
      try {
        s += `\n--- ${f}:\n${readFileSync(f, 'utf8').slice(-8000)}`;
      } catch {
        // not written (yet)
      }
    }
    return s;
  }

  /** The live processes of its tree, from the pid down. */
  private collectTree(): number[] {
    const out: number[] = [];
    const walk = (pid: number): void => {
      if (!alive(pid)) return;
      out.push(pid);
      if (!this.tree.has(pid)) this.tree.set(pid, startTime(pid));
      for (const c of childPids(pid)) walk(c);
    };
    walk(this.pid);
    return out;
  }

  /** True once its tree holds a listening socket on each of its ports. */
  listening(): boolean {
    const pids = this.collectTree();
    return this.ports.every((port) => {
      const inodes = listeningInodes(port);
      return inodes.length > 0 && pids.some((pid) => holdsSocket(pid, inodes));
    });
  }

  /** SIGTERM by pid, SIGKILL after `timeout`; then any process of its tree still there is killed by pid too. */
  async stop(timeout = 10_000): Promise<void> {
    this.collectTree();
    if (this.exitInfo === null) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), timeout);
      await this.exited;
      clearTimeout(t);
    }
    await new Promise((r) => setTimeout(r, 50));
    // By pid and start time: a pid of the tree may belong to another process by now.
    for (const [pid, started] of this.tree) if (pid !== this.pid) killIfSame(pid, started);
    running.delete(this);
    if (!process.env['H2KIT_KEEP_PEERS']) rmSync(this.dir, { recursive: true, force: true });
  }

  /** At process exit: no waiting, by pid. */
  killNow(): void {
    for (const [pid, started] of this.tree) killIfSame(pid, started);
  }
}

interface Launch {
  program: string;
  args: string[];
  /** Files its errors go to, shown when it fails. */
  logs?: string[];
}

/**
 * Starts `name`: `prepare(ports)` writes its configuration for `count` free
 * ports and says how to run it; resolves once its process tree listens on
 * them. A port taken meanwhile (other tests, other agents) means another try.
 */
export async function startPeer(name: string, dir: string, count: number, prepare: (ports: number[]) => Launch, timeout = 20_000): Promise<Peer> {
  let lastError = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    const ports: number[] = [];
    while (ports.length < count) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const launch = prepare(ports);
    const child = spawn(launch.program, launch.args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    if (child.pid === undefined) throw new Error(`${name}: cannot run ${launch.program}: ${(await spawnError).message}`);
    const peer = new Peer(name, child, ports, dir, launch.logs ?? []);
    const deadline = Date.now() + timeout;
    for (;;) {
      const err = await Promise.race([spawnError, new Promise<null>((r) => setTimeout(() => r(null), 50))]);
      if (err) throw new Error(`${name}: cannot run ${launch.program}: ${err.message}`);
      if (peer.exit === null && peer.listening()) return peer;
      if (peer.exit !== null || Date.now() > deadline) break;
    }
    const log = peer.log();
    const exit = peer.exit;
    await peer.stop(2000);
    lastError = `${name} (${launch.program} ${launch.args.join(' ')}) ${exit ? `exited (${JSON.stringify(exit)})` : `did not listen on ${ports.join(', ')} within ${timeout} ms`}; its output:\n${log}`;
    // Only a port someone else took is worth another try.
    if (!/in use|EADDRINUSE|could not bind|Could not listen/i.test(log)) break;
  }
  throw new Error(lastError);
}

export interface TlsFiles {
  key: string;
  cert: string;
}

/**
 * nghttpd in the foreground: TLS with `tls`, else --no-tls (h2c). `args`:
 * more options (-p, --echo-upload, --trailer ...).
 */
export function startNghttpd(htdocs: string, tls: TlsFiles | null, args: string[] = []): Promise<Peer> {
  const program = findProgram('nghttpd');
  const dir = peerDir('nghttpd');
  return startPeer('nghttpd', dir, 1, ([port]) => ({
    program,
    args: ['-a', '127.0.0.1', '-d', htdocs, ...args, ...(tls ? [String(port), tls.key, tls.cert] : ['--no-tls', String(port)])],
  }));
}

export interface NginxOptions {
  htdocs: string;
  tls: TlsFiles;
  /** Paths whose request pushes these paths (http2_push). */
  push?: Record<string, string[]>;
}

/** What nginx serves besides files: PUT under /dav/ stores the body in `davDir`. */
export interface NginxPeer {
  peer: Peer;
  davDir: string;
}

/**
 * nginx with `http2` on TLS: one process (master_process off, daemon off),
 * its prefix, configuration, pid file, error log and temp paths in a temp
 * dir. PUT /dav/NAME stores the request body as davDir/NAME (WebDAV module).
 */
export async function startNginx(o: NginxOptions): Promise<NginxPeer> {
  const program = findProgram('nginx');
  const dir = peerDir('nginx');
  const davDir = writableDir(join(dir, 'dav'));
  const conf = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'error.log');
  const pushes = Object.entries(o.push ?? {})
    .map(([path, list]) => `    location = ${path} {\n${list.map((p) => `      http2_push ${p};\n`).join('')}    }\n`)
    .join('');
  const peer = await startPeer('nginx', dir, 1, ([port]) => {
    writeFileSync(
      conf,
      `daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${errorLog} notice;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/octet-stream;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  # Many requests per connection (the default 1000 ends a session with GOAWAY).
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${o.tls.cert};
    ssl_certificate_key ${o.tls.key};
    root ${o.htdocs};
${pushes}    location /dav/ {
      root ${dir};
      dav_methods PUT;
      client_max_body_size 256m;
    }
  }
}
`,
    );
    // -e: the error log before the configuration is read (the default is under /var/log).
    return { program, args: ['-p', dir, '-c', conf, '-e', errorLog], logs: [errorLog] };
  });
  return { peer, davDir };
}

export interface ApacheOptions {
  htdocs: string;
  tls: TlsFiles;
}

/** apache2's ports: h2 over TLS, and h2c (prior knowledge or the Upgrade) on cleartext. */
export interface ApachePeer {
  peer: Peer;
  tlsPort: number;
  h2cPort: number;
  davDir: string;
}

const APACHE_MODULES = ['mpm_worker', 'authz_core', 'alias', 'ssl', 'http2', 'dav', 'dav_fs'];

/**
 * apache2 with mod_http2 in the foreground (-DFOREGROUND) with its own
 * configuration (-f), modules loaded from /usr/lib/apache2/modules: one port
 * with `Protocols h2 http/1.1` on TLS, one with `Protocols h2c http/1.1`.
 * PUT /dav/NAME stores the body as davDir/NAME (mod_dav_fs).
 *
 * mpm_worker, not Debian's default mpm_event: with mpm_event, 2.4.71 sends
 * GOAWAY and closes an upgraded h2c connection as soon as a response
 * fills the stream's window (nghttp -u fails the same way).
 */
export async function startApache(o: ApacheOptions): Promise<ApachePeer> {
  const program = findProgram('apache2');
  const modules = '/usr/lib/apache2/modules';
  for (const m of APACHE_MODULES) {
    if (!existsSync(join(modules, `mod_${m}.so`))) throw new Error(`apache2: ${modules}/mod_${m}.so is missing (Debian package apache2)`);
  }
  const dir = peerDir('apache2');
  const davDir = writableDir(join(dir, 'dav'));
  const lockDir = writableDir(join(dir, 'davlock'));
  const conf = join(dir, 'httpd.conf');
  const errorLog = join(dir, 'error.log');
  const who = isRoot ? unprivilegedUser() : null;
  const peer = await startPeer('apache2', dir, 2, ([tlsPort, h2cPort]) => {
    writeFileSync(
      conf,
      `ServerRoot ${dir}
ServerName localhost
DefaultRuntimeDir ${dir}
PidFile ${join(dir, 'httpd.pid')}
ErrorLog ${errorLog}
LogLevel warn
Mutex file:${dir} default
${who ? `User ${who.user}\nGroup ${who.group}\n` : ''}${APACHE_MODULES.map((m) => `LoadModule ${m}_module ${modules}/mod_${m}.so`).join('\n')}
DAVLockDB ${join(lockDir, 'db')}
DocumentRoot ${o.htdocs}
<Directory />
  Require all granted
</Directory>
Alias /dav/ ${davDir}/
<Directory ${davDir}>
  Dav On
</Directory>
Listen 127.0.0.1:${tlsPort}
Listen 127.0.0.1:${h2cPort}
<VirtualHost 127.0.0.1:${tlsPort}>
  Protocols h2 http/1.1
  SSLEngine on
  SSLCertificateFile ${o.tls.cert}
  SSLCertificateKeyFile ${o.tls.key}
</VirtualHost>
<VirtualHost 127.0.0.1:${h2cPort}>
  Protocols h2c http/1.1
</VirtualHost>
`,
    );
    return { program, args: ['-f', conf, '-DFOREGROUND'], logs: [errorLog] };
  });
  return { peer, tlsPort: peer.ports[0]!, h2cPort: peer.ports[1]!, davDir };
}

export interface H2oOptions {
  htdocs: string;
  tls: TlsFiles;
}

/**
 * h2o on TLS with its own YAML configuration: files from htdocs, and POST
 * /echo answered with the request body (an mruby handler).
 */
export function startH2o(o: H2oOptions): Promise<Peer> {
  const program = findProgram('h2o');
  const dir = peerDir('h2o');
  const conf = join(dir, 'h2o.conf');
  const errorLog = join(dir, 'error.log');
  return startPeer('h2o', dir, 1, ([port]) => {
    writeFileSync(
      conf,
      `listen:
  host: 127.0.0.1
  port: ${port}
  ssl:
    certificate-file: ${o.tls.cert}
    key-file: ${o.tls.key}
    ocsp-update-interval: 0
pid-file: ${join(dir, 'h2o.pid')}
error-log: ${errorLog}
${isRoot ? '# Started by root, h2o would switch to nobody, who cannot write the pid file here.\nuser: root\n' : ''}limit-request-body: 268435456
hosts:
  default:
    paths:
      /echo:
        mruby.handler: |
          Proc.new do |env|
            input = env["rack.input"]
            body = input ? input.read : ""
            [200, {"content-type" => "application/octet-stream", "content-length" => body.bytesize.to_s}, [body]]
          end
      /:
        file.dir: ${o.htdocs}
`,
    );
    return { program, args: ['-m', 'worker', '-c', conf], logs: [errorLog] };
  });
}
