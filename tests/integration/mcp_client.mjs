// An MCP client nobody at Spinel wrote: the official TypeScript SDK (@modelcontextprotocol/sdk,
// Client + StreamableHTTPClientTransport) against the example tool runner, over SPIFFE mTLS
// (undici Agent with the X509-SVID from `spinel-agent api fetch x509 --write`, the bundle as
// CA, the server checked by its URI SAN SPIFFE ID instead of a host name), adding the
// WIT-SVID (`api fetch wit --write`) and a new Workload Proof Token, signed here with node's
// crypto (ES256, ieee-p1363), to every request.
//
//   node mcp_client.mjs NODE_DIR CRED_DIR URL SERVER_SPIFFE_ID TOOL [KEY=VALUE ...]
// NODE_DIR holds node_modules (scripts/setup.sh). When CRED_DIR has delegation.jwt (a
// delegation token from `spinel-agent token exchange`), every request also carries it as
// `Authorization: Bearer`, bound by the WPT's "ath": the calls are made on behalf of its user.
// Prints one JSON object: the server info, the tool names and the tools/call result; plus
// "replay": the error of a request whose WPT was replayed. Exit 0, or 1 with the error on
// stderr.
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const [nodeDir, credDir, url, serverId, tool, ...kvs] = process.argv.slice(2);
const require = createRequire(path.join(nodeDir, 'node_modules', 'x.js'));
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } =
  require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const undici = require('undici');

const read = (name) => fs.readFileSync(path.join(credDir, name), 'utf8');
const wit = read('wit_svid.jwt').trim();
const witKey = crypto.createPrivateKey({ key: JSON.parse(read('wit_svid_key.jwk')), format: 'jwk' });
const bearer = fs.existsSync(path.join(credDir, 'delegation.jwt')) ? read('delegation.jwt').trim() : '';

const b64u = (data) => Buffer.from(data).toString('base64url');
const sha256 = (text) => crypto.createHash('sha256').update(text, 'ascii').digest('base64url');

// A Workload Proof Token (draft-ietf-wimse-wpt) for one request to `aud`.
function wpt(aud, accessToken) {
  const header = { alg: 'ES256', typ: 'wpt+jwt' };
  const claims = {
    aud, exp: Math.floor(Date.now() / 1000) + 30, jti: b64u(crypto.randomBytes(16)), wth: sha256(wit),
  };
  if (accessToken) claims.ath = sha256(accessToken);
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  const signature = crypto.sign('sha256', Buffer.from(input), { key: witKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64u(signature)}`;
}

// The server is authenticated by its SPIFFE ID (URI SAN), never by a host name.
function checkServerIdentity(_host, cert) {
  const uris = (cert.subjectaltname || '').split(', ').filter((s) => s.startsWith('URI:'));
  if (uris.length !== 1 || uris[0] !== `URI:${serverId}`) {
    return new Error(`server SPIFFE ID ${uris.join(',') || 'none'} is not ${serverId}`);
  }
  return undefined;
}

const dispatcher = new undici.Agent({
  connect: { cert: read('svid.pem'), key: read('svid.key'), ca: read('bundle.pem'), checkServerIdentity },
});

let replayNext = false;
let last = null;
const target = new URL(url);
const aud = `${target.protocol}//${target.host}${target.pathname}`;

// Every request gets the WIT-SVID and a new WPT (or, once, the previous one again).
async function wimseFetch(input, init = {}) {
  const headers = new Headers(init.headers || {});
  const proof = replayNext && last ? last : wpt(aud, bearer);
  replayNext = false;
  if ((init.method || 'GET') === 'POST') last = proof;
  headers.set('Workload-Identity-Token', wit);
  headers.set('Workload-Proof-Token', proof);
  if (bearer) headers.set('Authorization', `Bearer ${bearer}`);
  return undici.fetch(input, { ...init, headers, dispatcher });
}

const client = new Client({ name: 'spinel-sdk-test', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: wimseFetch });
try {
  await client.connect(transport);
  const listed = await client.listTools();
  const args = Object.fromEntries(kvs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const called = await client.callTool({ name: tool, arguments: args });
  let replay = '';
  replayNext = true;
  try {
    await client.listTools();
    replay = 'accepted';
  } catch (err) {
    replay = String(err.message || err);
  }
  console.log(JSON.stringify({
    server: client.getServerVersion(),
    protocol: transport.protocolVersion,
    session: transport.sessionId ? 'issued' : 'none',
    tools: listed.tools.map((t) => t.name),
    call: called,
    replay,
  }));
  await client.close();
  process.exit(0);
} catch (err) {
  // undici reports network and TLS failures as "fetch failed" with the reason in `cause`.
  console.error(String(err.stack || err) + (err.cause ? `\ncause: ${err.cause.stack || err.cause}` : ''));
  process.exit(1);
}
