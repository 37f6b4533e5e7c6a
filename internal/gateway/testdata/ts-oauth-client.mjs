// The official TypeScript MCP SDK client doing its own OAuth against
// mcpgate (auth mode oauth), for TestOAuthTSClient. Environment: MCP_URL
// (the gateway's /mcp), INTEROP_DIR, LOGIN_USER. The "browser" follows
// redirects and submits forms: mcpgate's consent page (approve) and the
// upstream provider's login and consent pages. Prints "tools <n>" on
// success; exits non-zero on failure.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.INTEROP_DIR, 'package.json'));
const { Client } = await import(require.resolve('@modelcontextprotocol/sdk/client/index.js'));
const { StreamableHTTPClientTransport } = await import(require.resolve('@modelcontextprotocol/sdk/client/streamableHttp.js'));
const { UnauthorizedError } = await import(require.resolve('@modelcontextprotocol/sdk/client/auth.js'));

const redirectUrl = 'http://127.0.0.1:9/ts-callback';
const cookies = new Map(); // loopback cookies are shared across ports anyway

async function browse(url) {
  let method = 'GET', body;
  for (let i = 0; i < 20; i++) {
    const res = await fetch(url, {
      method, body, redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
    });
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const eq = kv.indexOf('=');
      cookies.set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
    }
    if (res.status >= 300 && res.status < 400) {
      const loc = new URL(res.headers.get('location'), url).toString();
      if (loc.startsWith(redirectUrl)) return new URL(loc);
      url = loc; method = 'GET'; body = undefined;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`browser: ${url} answered ${res.status}: ${html}`);
    const action = html.match(/<form[^>]*action="([^"]*)"/);
    if (!action) throw new Error(`browser: no form at ${url}`);
    const form = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) form.set(m[1], m[2].replaceAll('&amp;', '&'));
    if (html.includes('name="login"')) { form.set('login', process.env.LOGIN_USER); form.set('password', 'any'); }
    if (html.includes('name="action" value="approve"')) form.set('action', 'approve');
    url = new URL(action[1].replaceAll('&amp;', '&'), url).toString(); method = 'POST'; body = form.toString();
  }
  throw new Error('browser: too many steps');
}

let info, tokens, verifier, codeUrl;
const provider = {
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() {
    return { redirect_uris: [redirectUrl], client_name: 'ts-sdk e2e', token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] };
  },
  clientInformation: () => info,
  saveClientInformation: (i) => { info = i; },
  tokens: () => tokens,
  saveTokens: (t) => { tokens = t; },
  redirectToAuthorization: async (u) => { codeUrl = await browse(u.toString()); },
  saveCodeVerifier: (v) => { verifier = v; },
  codeVerifier: () => verifier,
};

const url = new URL(process.env.MCP_URL);
let transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
let client = new Client({ name: 'ts-oauth', version: '1' });
try {
  await client.connect(transport);
} catch (e) {
  if (!(e instanceof UnauthorizedError)) throw e;
  if (codeUrl.searchParams.get('iss') !== url.origin) throw new Error(`iss ${codeUrl.searchParams.get('iss')}`);
  await transport.finishAuth(codeUrl.searchParams.get('code'));
  transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  client = new Client({ name: 'ts-oauth', version: '1' });
  await client.connect(transport);
}
const { tools } = await client.listTools();
if (!tokens?.refresh_token) throw new Error('no refresh token');
process.stdout.write(`tools ${tools.length}\n`);
await client.close();
