/**
 * h2proxy's library parts on their own: nghttpx's option syntax (-f, -b,
 * <DURATION>, <SIZE>, --conf lines), routing (patterns, precedence, round
 * robin, backoff), the header rules and the access log format.
 */
import { describe, expect, it } from 'vitest';
import { type AccessRecord, compileAccessLog } from '../../src/proxy/access-log.js';
import {
  buildConfig,
  ConfigError,
  defaultConfig,
  type OptionValue,
  parseBackend,
  parseConfText,
  parseDuration,
  parseFrontend,
  parseSize,
} from '../../src/proxy/config.js';
import { HeaderRules, type Inbound } from '../../src/proxy/headers.js';
import { normalizePath, parsePattern, Router } from '../../src/proxy/router.js';

const cli = (name: string, value: string | boolean): OptionValue => ({ name, value, where: `--${name}` });

describe('option values', () => {
  it('durations and sizes as nghttpx writes them', () => {
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(() => parseDuration('1.5s')).toThrow(/not a duration/);
    expect(parseSize('64K')).toBe(65536);
    expect(parseSize('2M')).toBe(2 << 20);
    expect(() => parseSize('1T')).toThrow(/not a size/);
  });

  it('-f HOST,PORT[;no-tls]', () => {
    expect(parseFrontend('*,3000')).toEqual({ host: '*', port: 3000, tls: true });
    expect(parseFrontend('127.0.0.1,8080;no-tls')).toEqual({ host: '127.0.0.1', port: 8080, tls: false });
    expect(parseFrontend('[::1],443')).toEqual({ host: '::1', port: 443, tls: true });
    expect(() => parseFrontend('localhost')).toThrow(/not <HOST>,<PORT>/);
    expect(() => parseFrontend('a,70000')).toThrow(/not a port/);
    expect(() => parseFrontend('a,1;api')).toThrow(/unsupported frontend parameter 'api'/);
    expect(() => parseFrontend('unix:/run/x.sock')).toThrow(/UNIX domain sockets/);
  });

  it('-b HOST,PORT;PATTERN[:PATTERN];PARAMS', () => {
    const b = parseBackend('127.0.0.1,8080;example.com/api/:/static/;proto=h2;tls;sni=backend.test;read-timeout=5s');
    expect(b.host).toBe('127.0.0.1');
    expect(b.port).toBe(8080);
    expect(b.patterns.map((p) => [p.host, p.path])).toEqual([
      ['example.com', '/api/'],
      [null, '/static/'],
    ]);
    expect(b).toMatchObject({ proto: 'h2', tls: true, sni: 'backend.test', readTimeout: 5000 });
    expect(parseBackend('127.0.0.1,80').patterns.map((p) => p.path)).toEqual(['/']);
    expect(parseBackend('127.0.0.1,80;;proto=h2').proto).toBe('h2');
    expect(() => parseBackend('h,80;/;proto=h3')).toThrow(/proto=h3/);
    expect(() => parseBackend('h,80;/;affinity=ip')).toThrow(/unsupported backend parameter 'affinity=ip'/);
    expect(() => parseBackend('h,80;ex*mple.com/')).toThrow(/leftmost/);
  });
});

describe('--conf files', () => {
  it('name=value lines, comments, yes/no flags; the command line replaces the values of the options it gives', () => {
    const conf = parseConfText(
      [
        '# a comment',
        '',
        'frontend=127.0.0.1,3000;no-tls',
        'backend=127.0.0.1,8080',
        'backend=127.0.0.1,8081;/api/',
        'no-via=yes',
        'add-x-forwarded-for=no',
        'backend-read-timeout=10s',
        'workers = 2',
      ].join('\n'),
      'h2proxy.conf',
    );
    const c = buildConfig(conf, [cli('backend', '127.0.0.1,9000')], '/x/h2proxy.conf');
    expect(c.frontends).toEqual([{ host: '127.0.0.1', port: 3000, tls: false }]);
    expect(c.backends.map((b) => b.port)).toEqual([9000]);
    expect(c.noVia).toBe(true);
    expect(c.addXForwardedFor).toBe(false);
    expect(c.backendReadTimeout).toBe(10_000);
    expect(c.workers).toBe(2);
    expect(c.confFile).toBe('/x/h2proxy.conf');
  });

  it('bad lines name the file, the line and the option', () => {
    const err = (text: string): string => {
      try {
        buildConfig(parseConfText(text, 'p.conf'), [], null);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err('frontend=1,2;no-tls\nno-such-option=1')).toBe('p.conf:2: no-such-option: unknown option');
    expect(err('\n\nbackend-read-timeout=soon')).toBe(
      "p.conf:3: backend-read-timeout: 'soon' is not a duration (an integer with an optional unit h, m, s or ms)",
    );
    expect(err('no-via=true')).toBe("p.conf:1: no-via: 'true' is not yes or no");
    expect(err('just text')).toBe("p.conf:1: expected name=value, got 'just text'");
    expect(err('backend=127.0.0.1,80;/api/')).toMatch(/^--backend: no catch-all backend/);
  });

  it('defaults: frontend *,3000 with TLS, backend 127.0.0.1,80', () => {
    const c = buildConfig([], [], null);
    expect(c.frontends).toEqual([{ host: '*', port: 3000, tls: true }]);
    expect(c.backends.map((b) => `${b.host},${b.port}`)).toEqual(['127.0.0.1,80']);
  });
});

describe('routing', () => {
  const router = (...specs: string[]) => new Router(specs.map(parseBackend));
  const route = (r: Router, authority: string, path: string) => {
    const g = r.match(authority, path);
    return g ? `${g.pattern.host ?? ''}${g.pattern.path}` : null;
  };

  it('paths: "/x/" matches the subtree and "/x", "/x" only itself, "/x*" longer paths; longest wins', () => {
    const r = router('h,1', 'h,2;/foo/', 'h,3;/foo/bar/', 'h,4;/exact', 'h,5;/wild*');
    expect(route(r, 'a', '/')).toBe('/');
    expect(route(r, 'a', '/foo')).toBe('/foo/');
    expect(route(r, 'a', '/foo/x?q=1')).toBe('/foo/');
    expect(route(r, 'a', '/foo/bar/baz')).toBe('/foo/bar/');
    expect(route(r, 'a', '/foobar')).toBe('/');
    expect(route(r, 'a', '/exact')).toBe('/exact');
    expect(route(r, 'a', '/exact/')).toBe('/');
    expect(route(r, 'a', '/wildcard')).toBe('/wild*');
    expect(route(r, 'a', '/wild/')).toBe('/wild*');
    expect(route(r, 'a', '/wild')).toBe('/');
  });

  it('hosts: host patterns win over paths, exact hosts over wildcards; the port and case do not matter', () => {
    const r = router('h,1', 'h,2;/api/', 'h,3;example.com', 'h,4;*.example.com', 'h,5;www.example.com/api/');
    expect(route(r, 'Example.COM:8443', '/api/x')).toBe('example.com/');
    expect(route(r, 'www.example.com', '/api/x')).toBe('www.example.com/api/');
    expect(route(r, 'www.example.com', '/other')).toBe('*.example.com/');
    expect(route(r, 'cdn.example.com', '/api/')).toBe('*.example.com/');
    expect(route(r, 'other.org', '/api/x')).toBe('/api/');
  });

  it('paths are matched after decoding unreserved characters and removing dot-segments', () => {
    expect(normalizePath('/a/./b/../c?x=1')).toBe('/a/c');
    expect(normalizePath('/%7euser/%2Fx')).toBe('/~user/%2Fx');
    expect(normalizePath('/a/b/..')).toBe('/a/');
    const r = router('h,1', 'h,2;/secret/');
    expect(route(r, 'a', '/public/../secret/x')).toBe('/secret/');
    expect(route(r, 'a', '/%73ecret/x')).toBe('/secret/');
    expect(parsePattern('').path).toBe('/');
  });

  it('round robin within a group; a refused backend is left out for a backoff that doubles, then tried again', () => {
    const r = router('h,1', 'h,2', 'h,3');
    const g = r.match('a', '/')!;
    const now = 1_000_000;
    expect([1, 2, 3, 4].map(() => g.pick(now)!.address.port)).toEqual([1, 2, 3, 1]);
    const b2 = g.backends[1]!;
    expect(r.failed(b2, now)).toBe(1000);
    // The other attempts of the same burst find it out already: the backoff does not grow.
    expect(r.failed(b2, now + 5)).toBe(995);
    expect(b2.failures).toBe(1);
    expect([1, 2, 3, 4].map(() => g.pick(now + 10)!.address.port)).toEqual([3, 1, 3, 1]);
    expect(r.failed(b2, now + 1000)).toBe(2000);
    expect(g.pick(now + 2500)!.address.port).toBe(3);
    expect(g.pick(now + 3000)!.address.port).toBe(1);
    expect(g.pick(now + 3000)!.address.port).toBe(2);
    r.succeeded(b2);
    expect(b2.failures).toBe(0);
    for (const b of g.backends) r.failed(b, now + 5000);
    expect(g.pick(now + 5000)).toBeNull();
  });
});

describe('header rules', () => {
  const inbound = (headers: Array<[string, string]>, version = '2'): Inbound => ({
    method: 'GET',
    scheme: 'https',
    authority: 'example.com',
    path: '/',
    headers,
    version,
    remoteAddress: '192.0.2.7',
    localAddress: '127.0.0.1',
    localPort: 3000,
    tls: true,
    obfuscatedFor: '_conn1',
  });

  it('request: hop-by-hop and Connection-named fields dropped, te: trailers kept, cookies joined for HTTP/1.1, X-Forwarded-*, Forwarded, Via, added fields', () => {
    const c = {
      ...defaultConfig(),
      addXForwardedFor: true,
      addForwarded: ['proto', 'host', 'for'] as Array<'for' | 'proto' | 'host'>,
      addRequestHeaders: [['x-added', '1']] as Array<[string, string]>,
    };
    const rules = new HeaderRules(c);
    const h: Array<[string, string]> = [
      ['user-agent', 'ua'],
      ['connection', 'x-private'],
      ['x-private', 'secret'],
      ['keep-alive', '5'],
      ['te', 'gzip, trailers'],
      ['cookie', 'a=1'],
      ['cookie', 'b=2'],
      ['x-forwarded-for', '198.51.100.1'],
      ['x-forwarded-proto', 'gopher'],
      ['via', '1.1 other'],
      ['upgrade', 'websocket'],
    ];
    const h1 = rules.request(inbound(h), true);
    expect(h1).toEqual([
      ['host', 'example.com'],
      ['user-agent', 'ua'],
      ['cookie', 'a=1; b=2'],
      ['te', 'trailers'],
      ['forwarded', 'for=_conn1;host=example.com;proto=https'],
      ['x-forwarded-for', '198.51.100.1, 192.0.2.7'],
      ['x-forwarded-proto', 'https'],
      ['via', '1.1 other, 2 h2proxy'],
      ['x-added', '1'],
    ]);
    const h2 = rules.request(inbound(h), false);
    expect(h2.filter(([n]) => n === 'cookie')).toEqual([
      ['cookie', 'a=1'],
      ['cookie', 'b=2'],
    ]);
    const stripped = new HeaderRules({ ...c, stripIncomingXForwardedFor: true, noVia: true, noAddXForwardedProto: true, addForwarded: [] }).request(
      inbound(h, '1.1'),
      true,
    );
    expect(stripped[0]).toEqual(['host', 'example.com']);
    expect(stripped.find(([n]) => n === 'x-forwarded-for')).toEqual(['x-forwarded-for', '192.0.2.7']);
    expect(stripped.find(([n]) => n === 'via')).toEqual(['via', '1.1 other']);
    expect(stripped.some(([n]) => n === 'x-forwarded-proto')).toBe(false);
  });

  it('response: hop-by-hop dropped, Set-Cookie fields kept apart, Server rewritten, Via appended with the backend version', () => {
    const rules = new HeaderRules({ ...defaultConfig(), addResponseHeaders: [['strict-transport-security', 'max-age=1']] });
    const out = rules.response(
      [
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
        ['connection', 'close, x-hop'],
        ['x-hop', '1'],
        ['transfer-encoding', 'chunked'],
        ['server', 'backend/1.0'],
        ['via', '1.0 fred'],
        ['content-type', 'text/plain'],
      ],
      '1.1',
    );
    expect(out).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['content-type', 'text/plain'],
      ['server', 'h2proxy'],
      ['via', '1.0 fred, 1.1 h2proxy'],
      ['strict-transport-security', 'max-age=1'],
    ]);
    const kept = new HeaderRules({ ...defaultConfig(), noServerRewrite: true, noVia: true }).response([['server', 'backend/1.0']], '2');
    expect(kept).toEqual([['server', 'backend/1.0']]);
  });
});

describe('access log format', () => {
  const rec: AccessRecord = {
    remoteAddress: '127.0.0.1',
    remotePort: 5555,
    serverPort: 3000,
    method: 'GET',
    path: '/a?b=1',
    protocolVersion: 'HTTP/2',
    alpn: 'h2',
    status: 200,
    bodyBytesSent: 1234,
    headers: [
      ['user-agent', 'curl/8'],
      ['x-request-id', 'r1'],
    ],
    start: 1000,
    end: 1012.4,
    wallClock: new Date(2026, 0, 2, 3, 4, 5, 6),
    tlsCipher: 'TLS_AES_128_GCM_SHA256',
    tlsProtocol: 'TLSv1.3',
    tlsSni: 'localhost',
    tlsSessionReused: false,
    backendHost: '127.0.0.1',
    backendPort: 8080,
  };

  it("nghttpx's variables, with and without braces; unknown ones are refused", () => {
    const f = compileAccessLog(
      '$remote_addr:$remote_port "$request" $status $body_bytes_sent ${request_time}s $alpn $protocol_version $method $path_without_query $http_x_request_id $http_referer $backend_host:$backend_port $server_port $tls_protocol $tls_session_reused',
    );
    expect(f(rec)).toBe('127.0.0.1:5555 "GET /a?b=1 HTTP/2" 200 1234 0.012s h2 HTTP/2 GET /a r1 - 127.0.0.1:8080 3000 TLSv1.3 .');
    expect(compileAccessLog('[$time_local]')(rec)).toMatch(/^\[02\/Jan\/2026:03:04:05 [+-]\d{4}\]$/);
    expect(compileAccessLog('$time_iso8601')(rec)).toMatch(/^2026-01-02T03:04:05\.006[+-]\d\d:\d\d$/);
    expect(() => compileAccessLog('$nope')).toThrow(/unknown variable \$nope/);
  });
});
