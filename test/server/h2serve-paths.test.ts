/**
 * Path safety end to end: the real h2serve, and :path values sent exactly as
 * written by the raw client (no client normalises them). A secret file, a
 * secret directory and a sibling whose name starts with the root's lie next
 * to htdocs; symlinks inside htdocs point at them. Every attempt must get
 * 404 or 400 and never the secret.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, FrameType } from '../../src/h2/index.js';
import { RawClient } from '../helpers/h2-raw-client.js';
import { type H2ServeProcess, killAll, startH2Serve } from '../helpers/h2serve.js';

const SECRET = 'SECRET-d41d8cd98f00b204';
let base = '';
let server: H2ServeProcess;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'h2serve-paths-'));
  const root = join(base, 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'index.html'), 'public index\n');
  writeFileSync(join(root, 'sub', 'page.txt'), 'public page\n');
  writeFileSync(join(base, 'secret.txt'), SECRET);
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'secret.txt'), SECRET);
  writeFileSync(join(base, 'outside', 'index.html'), SECRET);
  mkdirSync(join(base, 'root-evil'));
  writeFileSync(join(base, 'root-evil', 'x.txt'), SECRET);
  symlinkSync('../secret.txt', join(root, 'link-out'));
  symlinkSync(join(base, 'secret.txt'), join(root, 'abs-link'));
  symlinkSync('../outside', join(root, 'dirlink'));
  symlinkSync(join(base, 'outside'), join(root, 'sub', 'abs-dirlink'));
  symlinkSync('../../outside/secret.txt', join(root, 'sub', 'deep-link'));
  server = await startH2Serve(['--no-tls', '-d', root, '0']);
});

afterAll(async () => {
  if (server) await server.stop();
  await killAll();
  rmSync(base, { recursive: true, force: true });
});

const attempts = (): string[] => [
  '/../secret.txt',
  '/../../../../../../../../secret.txt',
  '/%2e%2e/secret.txt',
  '/%2E%2E/secret.txt',
  '/.%2e/secret.txt',
  '/%2e./secret.txt',
  '/..%2fsecret.txt',
  '/%2e%2e%2fsecret.txt',
  '/%2e%2e%2Fsecret.txt',
  '/sub/..%2f..%2fsecret.txt',
  '/sub/../../secret.txt',
  '/./../secret.txt',
  '/sub/%2e%2e/%2e%2e/secret.txt',
  '/..\\secret.txt',
  '/\\..\\secret.txt',
  '/..%5csecret.txt',
  '/%5c..%5csecret.txt',
  '/%2e%2e%5csecret.txt',
  '/..\\/secret.txt',
  '/secret.txt%00',
  '/..%00/secret.txt',
  '/%00/../secret.txt',
  '/%252e%252e/secret.txt',
  '/%252e%252e%252fsecret.txt',
  '/..%252fsecret.txt',
  '/%25%32%65%25%32%65/secret.txt',
  '/%c0%ae%c0%ae/secret.txt',
  '/%e0%80%ae%e0%80%ae/secret.txt',
  '/..%c0%afsecret.txt',
  '/%ef%bc%8e%ef%bc%8e/secret.txt',
  '/..;/secret.txt',
  '/....//secret.txt',
  '/%u002e%u002e/secret.txt',
  `${base}/secret.txt`,
  `/${base}/secret.txt`,
  `/${base.slice(1)}/secret.txt`,
  '//secret.txt',
  '/../root-evil/x.txt',
  '/%2e%2e/root-evil/x.txt',
  '/link-out',
  '/abs-link',
  '/dirlink',
  '/dirlink/',
  '/dirlink/secret.txt',
  '/dirlink/index.html',
  '/sub/abs-dirlink/secret.txt',
  '/sub/deep-link',
  '/sub/../link-out',
];

/**
 * :path values that do not start with '/' are not HTTP/2 requests for an
 * http URI at all (RFC 9113 §8.3.1): the engine resets them with
 * PROTOCOL_ERROR (§8.1.1), as nghttpd does, before h2serve sees them.
 */
const malformed = ['\\..\\secret.txt', '..%2fsecret.txt', 'secret.txt', 'xxx/../secret.txt'];

describe('path safety with the raw client', () => {
  it('has at least 25 attempts', () => {
    expect(attempts().length).toBeGreaterThanOrEqual(25);
  });

  it('no traversal attempt returns the secret; each gets 404 or 400', async () => {
    const c = await RawClient.open(server.port);
    try {
      const list = attempts();
      const results: Array<{ path: string; status: string; rst: number | null; secret: boolean }> = [];
      for (const [method] of [['GET'], ['HEAD']] as const) {
        let id = method === 'GET' ? 1 : 1 + 2 * list.length;
        for (const path of list) {
          c.send(c.request(id, path, { method }));
          const r = await c.response(id, 5000);
          results.push({
            path: `${method} ${path}`,
            status: r.status,
            rst: r.rst,
            secret: r.body.includes(SECRET) || r.body.includes(Buffer.from(SECRET).toString('base64')),
          });
          id += 2;
        }
      }
      const bad = results.filter((r) => r.secret || !['400', '404'].includes(r.status) || r.rst !== null);
      expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
      // One connection carried them all: none was a connection error.
      expect(c.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
    } finally {
      c.close();
    }
  });

  it('a :path that does not start with / is a stream error PROTOCOL_ERROR (RFC 9113 §8.1.1), never content', async () => {
    const c = await RawClient.open(server.port);
    try {
      let id = 1;
      for (const path of malformed) {
        c.send(c.request(id, path));
        const r = await c.response(id, 5000);
        expect(r.rst, path).toBe(ErrorCode.PROTOCOL_ERROR);
        expect(r.status, path).toBe('');
        expect(r.body.length, path).toBe(0);
        id += 2;
      }
      expect(await c.ping()).toBe(true);
    } finally {
      c.close();
    }
  });

  it('the files inside are served (the attempts fail for the right reason)', async () => {
    const c = await RawClient.open(server.port);
    try {
      c.send(c.request(1, '/sub/page.txt'));
      const a = await c.response(1);
      expect(a.status).toBe('200');
      expect(a.body.toString()).toBe('public page\n');
      c.send(c.request(3, '/sub/../sub/%70age.txt'));
      const b = await c.response(3);
      expect(b.status).toBe('200');
      expect(b.body.toString()).toBe('public page\n');
    } finally {
      c.close();
    }
  });
});
