// A real upstream OpenID provider for mcpgate's authserver tests: npm
// oidc-provider with one confidential client (the gateway) and accounts
// whose email and groups travel in the ID token. Configured by environment:
// OIDC_PORT (0 picks one), OIDC_REDIRECT_URI (the gateway's /callback),
// OIDC_ACCESS_TOKEN_TTL (seconds; default 3600).
// It prints "listening <issuer>" on stdout once ready and stops when stdin
// closes, so the test that started it owns its lifetime.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.INTEROP_DIR, 'package.json'));
const { default: Provider } = await import(require.resolve('oidc-provider'));

const accounts = {
  alice: { email: 'alice@example.com', groups: ['admins'] },
  bob: { email: 'bob@example.com', groups: ['readers'] },
};

const server = (await import('node:http')).createServer();
await new Promise((resolve) => server.listen(Number(process.env.OIDC_PORT || 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'mcpgate',
    client_secret: 'mcpgate-upstream-secret',
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'groups', 'offline_access'],
  claims: { openid: ['sub'], email: ['email'], groups: ['groups'] },
  conformIdTokenClaims: false,
  // OIDC_ACCESS_TOKEN_TTL (seconds) shortens access tokens for refresh tests.
  ttl: { AccessToken: Number(process.env.OIDC_ACCESS_TOKEN_TTL || 3600) },
  cookies: { keys: ['test-only-cookie-key'] },
  async findAccount(ctx, id) {
    if (!accounts[id]) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...accounts[id] }; } };
  },
});
provider.proxy = false;
server.on('request', provider.callback());
process.stdout.write(`listening ${issuer}\n`);
process.stdin.on('end', () => { server.close(); process.exit(0); });
process.stdin.resume();
