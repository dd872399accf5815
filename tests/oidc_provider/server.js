// A local OpenID Provider (oidc-provider, OpenID Certified) standing in for Okta in the login-flow test.
//
// Usage: node server.js <settings.json>
//   settings: {"tls": {"cert": <pem path>, "key": <pem path>}, "account": {"sub": ..., <claims>}}
// Listens on a free port of 127.0.0.1 over HTTPS and prints {"issuer": ...}. The test then plans the
// configuration for that issuer and writes one line on standard input: the client metadata as
// registered in Okta (plus "pkce_required"); the provider starts and prints {"ready": true}.
// Exits when its standard input closes, so it never outlives the test that started it.
// Logins need no human: the one test account is signed in at the interaction step, and consent
// is implicit, as with Okta's consent_method TRUSTED that the project plans.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { createInterface } from 'node:readline';

import Provider from 'oidc-provider';

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { account } = settings;

const server = https.createServer({
  cert: readFileSync(settings.tls.cert),
  key: readFileSync(settings.tls.key),
});

function start(issuer, client) {
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  const provider = new Provider(issuer, {
    clients: [client],
    // Okta's per-app "Require PKCE" switch, as client metadata.
    extraClientMetadata: { properties: ['pkce_required'] },
    pkce: { required: (ctx, client) => client.pkce_required === true }, // extra metadata keeps its snake_case name
    jwks: { keys: [{ ...signingKey, kid: 'test-signing-key', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username', 'nickname', 'given_name', 'family_name'],
    },
    // Okta puts the scope's claims into the ID token it returns from /token; oidc-provider's
    // default keeps them for /userinfo only, which KubeSphere never calls by default.
    conformIdTokenClaims: false,
    findAccount: async (ctx, id) => (id === account.sub ? { accountId: id, claims: async () => ({ ...account }) } : undefined),
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(ctx.oidc.params.scope || '');
      await grant.save();
      return grant;
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  const callback = provider.callback();

  server.on('request', async (req, res) => {
    if (req.url.startsWith('/interaction/')) {
      try {
        await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
      } catch (error) {
        res.statusCode = 400;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ error: 'interaction_failed', error_description: String(error) }));
      }
      return;
    }
    callback(req, res);
  });
}

server.listen(0, '127.0.0.1', () => {
  const issuer = `https://127.0.0.1:${server.address().port}`;
  const input = createInterface({ input: process.stdin });
  input.once('line', (line) => {
    start(issuer, JSON.parse(line));
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  });
  input.on('close', () => process.exit(0));
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
