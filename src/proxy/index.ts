/**
 * h2kit/proxy: an HTTP/2 and HTTP/1.1 reverse proxy with nghttpx's
 * configuration and behaviour. startProxy() runs one from a ProxyConfig;
 * reload() puts a new configuration in force without dropping connections.
 */
import { readFileSync } from 'node:fs';
import type { ProxyConfig } from './config.js';
import { describe, Frontends } from './frontend.js';
import { ErrorLog, LogFile } from './logs.js';
import { Generation, ProxyCore } from './proxy.js';

export { type AccessRecord, compileAccessLog } from './access-log.js';
export * from './config.js';
export { type Fields, HeaderRules, type Inbound } from './headers.js';
export { errorPage } from './proxy.js';
export { normalizePath, type Pattern, parsePattern, Router } from './router.js';

export interface RunningProxy {
  /** "127.0.0.1:3000 (TLS)" per listening frontend. */
  readonly addresses: Array<{ host: string; port: number; tls: boolean; text: string }>;
  readonly errorLog: ErrorLog;
  /** Puts `config` in force: new routes, rules, backends, logs and frontends; open connections go on. */
  reload(config: ProxyConfig): Promise<void>;
  /** Reopens the log files (SIGUSR1). */
  reopenLogs(): void;
  /** Stops: graceful (in-flight requests finish within `timeout` ms) or at once. */
  close(graceful?: boolean, timeout?: number): Promise<void>;
}

function keyCert(c: ProxyConfig): { key: Buffer; cert: Buffer } | null {
  if (!c.frontends.some((f) => f.tls)) return null;
  return { key: readFileSync(c.privateKeyFile!), cert: readFileSync(c.certificateFile!) };
}

export async function startProxy(
  config: ProxyConfig,
  options: { connectionIds?: { first: number; step: number }; quiet?: boolean } = {},
): Promise<RunningProxy> {
  let errorFile = new LogFile(config.errorlogFile, 2);
  const errorLog = new ErrorLog(errorFile, config.logLevel);
  let accessFile = config.accesslogFile !== null ? new LogFile(config.accesslogFile, 1) : null;
  const core = new ProxyCore(new Generation(config, accessFile), errorLog);
  const frontends = new Frontends(core, config, errorLog, options.connectionIds);
  try {
    await frontends.apply(config, keyCert(config));
  } catch (e) {
    await frontends.close(false, 0);
    core.destroy();
    throw e;
  }
  const addresses = () =>
    frontends.listening.map((l) => ({
      host: l.address.address,
      port: l.address.port,
      tls: l.spec.tls,
      text: `${describe(l.address)}${l.spec.tls ? '' : ' (no-tls)'}`,
    }));
  if (!options.quiet) for (const a of addresses()) errorLog.notice(`Listening on ${a.text}`);
  const running: RunningProxy = {
    get addresses() {
      return addresses();
    },
    get errorLog() {
      return errorLog;
    },
    async reload(next: ProxyConfig) {
      const kc = keyCert(next);
      const nextAccess =
        next.accesslogFile === null ? null : next.accesslogFile === config.accesslogFile && accessFile ? accessFile : new LogFile(next.accesslogFile, 1);
      const gen = new Generation(next, nextAccess);
      const added = await frontends.apply(next, kc);
      if (next.errorlogFile !== config.errorlogFile) {
        const old = errorFile;
        errorFile = new LogFile(next.errorlogFile, 2);
        old.close();
      }
      errorLog.retarget(errorFile, next.logLevel);
      core.replace(gen);
      if (accessFile !== null && accessFile !== nextAccess) {
        const old = accessFile;
        void core.idle(60_000).then(() => old.close());
      }
      accessFile = nextAccess;
      config = next;
      for (const l of added) errorLog.notice(`Listening on ${describe(l.address)}${l.spec.tls ? '' : ' (no-tls)'}`);
    },
    reopenLogs() {
      errorFile.reopen();
      accessFile?.reopen();
    },
    async close(graceful = true, timeout = 30_000) {
      await frontends.close(graceful, timeout);
      if (graceful) await core.close();
      else core.destroy();
    },
  };
  return running;
}
