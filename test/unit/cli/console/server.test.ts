/** The console server's guard: the token, its cookie, the security headers, read-only routes, escaped errors. */
import { GlueClient } from '@aws-sdk/client-glue';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { CONTENT_SECURITY_POLICY, ConsoleServer, startConsoleServer, TOKEN_COOKIE } from '../../../../cli/console/server';
import { cloudTarget, testContext } from '../fixtures';

describe('the console server', () => {
  const ctx = testContext(cloudTarget);
  const ddb = mockClient(ctx.ddb);
  const sqs = mockClient(ctx.sqs);
  let server: ConsoleServer;
  const TOKEN = 'test-token-0123456789';
  const cookie = `${TOKEN_COOKIE}=${TOKEN}`;

  beforeAll(async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(GetCommand).resolves({});
    sqs
      .on(GetQueueAttributesCommand)
      .resolves({ Attributes: { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '0' } });
    const sources = { ctx, glue: new GlueClient({ region: 'eu-west-1' }), parquetRows: () => Promise.reject(new Error('unused')) };
    server = await startConsoleServer({ sources, token: TOKEN, port: 0 });
  });

  afterAll(() => server.close());

  it('listens on 127.0.0.1 and prints a URL with the token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.urlWithToken).toBe(`${server.url}?token=${TOKEN}`);
  });

  it('answers 401 without the token, with a wrong one, or a wrong cookie, on every path', async () => {
    const statuses = await Promise.all(
      [
        fetch(server.url),
        fetch(`${server.url}?token=wrong`),
        fetch(`${server.url}static/console.js`),
        fetch(`${server.url}manifests/x`, { headers: { cookie: `${TOKEN_COOKIE}=wrong` } }),
      ].map(async (r) => (await r).status),
    );

    expect(statuses).toEqual([401, 401, 401, 401]);
  });

  it('takes the token once and moves it into an HttpOnly SameSite=Strict cookie, out of the URL', async () => {
    const res = await fetch(`${server.url}manifests?status=FAILED&token=${TOKEN}`, { redirect: 'manual' });

    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/manifests?status=FAILED');
    expect(res.headers.get('set-cookie')).toBe(`${TOKEN_COOKIE}=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`);
  });

  it('serves pages with a strict CSP and no CORS header, the script as a file', async () => {
    const page = await fetch(server.url, { headers: { cookie } });
    const script = await fetch(`${server.url}static/console.js`, { headers: { cookie } });
    const html = await page.text();

    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(html).toMatch(/<tr data-dlq="ingest">\s*<td>ingest/);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('changes nothing: any other method than GET and HEAD is refused', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${server.url}manifests/x`, { method, headers: { cookie } });
      expect([method, res.status, res.headers.get('allow')]).toEqual([method, 405, 'GET, HEAD']);
    }
  });

  it('refuses a request for another host name (a page of another site resolved to 127.0.0.1)', async () => {
    const port = new URL(server.url).port;
    const res = await new Promise<number>((resolve, reject) => {
      // fetch does not let the Host header be set; http.request does.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- node's http, for this one request
      const req = (require('node:http') as typeof import('node:http')).request(
        { host: '127.0.0.1', port, path: '/', headers: { host: `evil.example:${port}`, cookie } },
        (r) => resolve(r.statusCode ?? 0),
      );
      req.on('error', reject);
      req.end();
    });

    expect(res).toBe(421);
  });

  it('escapes what it echoes in an error page', async () => {
    const res = await fetch(`${server.url}manifests/${encodeURIComponent('<script>alert(1)</script>')}`, { headers: { cookie } });
    const text = await res.text();

    expect(res.status).toBe(404);
    expect(text).not.toContain('<script>alert');
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
