// A WS-Federation relying party built on passport-wsfed-saml2, for
// keyroll's peers tests.
//
//     node rp.js ISSUER_URL REALM
//
// reads ISSUER_URL's federation metadata (its only knowledge of the
// issuer) and trusts the thumbprints of the signing certificates listed
// there, as AD FS relying parties do; listens on 127.0.0.1 and prints
// "listening http://127.0.0.1:PORT".
//
//     GET  /login    wsignin1.0 redirect to ISSUER_URL/wsfed, wctx from the library's state store
//     POST /acs      validate wresult: 200 JSON, or 403 and the reason
//     POST /reload   read the metadata again
'use strict';

const crypto = require('crypto');
const { EventEmitter } = require('events');
const http = require('http');
const querystring = require('querystring');
const { Strategy } = require('passport-wsfed-saml2');

const [issuer, realm] = process.argv.slice(2);
const metadataURL = issuer + '/federationmetadata/2007-06/federationmetadata.xml';
const pending = new Set(); // wctx values sent and not yet used
let base;
let strategy;
let lastVersion = ''; // SAML version of the last assertion the library parsed

// thumbprintsOf returns the SHA-1 thumbprints of every certificate in the
// metadata's KeyDescriptors.
function thumbprintsOf(xml) {
  const found = new Set();
  for (const m of xml.matchAll(/<(?:\w+:)?X509Certificate>([^<]+)</g)) {
    const der = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
    found.add(crypto.createHash('sha1').update(der).digest('hex').toUpperCase());
  }
  return [...found];
}

async function reload() {
  const res = await fetch(metadataURL);
  if (!res.ok) throw new Error('metadata: ' + res.status);
  const thumbprints = thumbprintsOf(await res.text());
  if (thumbprints.length === 0) throw new Error('metadata lists no certificate');
  const eventEmitter = new EventEmitter();
  eventEmitter.on('parseAssertion', (e) => { lastVersion = e.version; });
  strategy = new Strategy({
    realm,
    identityProviderUrl: issuer + '/wsfed',
    wreply: base + '/acs',
    recipientUrl: base + '/acs',
    thumbprints,
    eventEmitter,
    store: {
      store(req, cb) { const s = crypto.randomBytes(12).toString('hex'); pending.add(s); cb(null, s); },
      verify(req, state, cb) { cb(null, pending.delete(state), state); },
    },
  }, (profile, done) => done(null, profile));
}

// authenticate runs the strategy as passport would, without express.
function authenticate(req) {
  return new Promise((resolve) => {
    const s = Object.create(strategy);
    s.success = (user) => resolve({ user });
    s.redirect = (url) => resolve({ redirect: url });
    s.fail = (why) => resolve({ refused: String(why && why.message || why) });
    s.error = (err) => resolve({ refused: String(err && err.message || err) });
    s.authenticate(req, {});
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(querystring.parse(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

const nameClaim = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier';

async function handle(req, res) {
  const send = (code, body, type = 'text/plain') => { res.writeHead(code, { 'Content-Type': type }); res.end(body); };
  const route = req.method + ' ' + req.url.split('?')[0];
  if (route === 'GET /login') {
    const r = await authenticate(req);
    if (!r.redirect) return send(500, JSON.stringify(r));
    res.writeHead(302, { Location: r.redirect });
    return res.end();
  }
  if (route === 'POST /acs') {
    req.body = await readBody(req);
    lastVersion = '';
    const r = await authenticate(req);
    if (!r.user) return send(403, r.refused || 'no user');
    const attributes = {};
    for (const [k, v] of Object.entries(r.user)) {
      if (typeof v === 'string' || Array.isArray(v)) attributes[k] = [].concat(v);
    }
    return send(200, JSON.stringify({ name_id: r.user[nameClaim] || '', issuer: r.user.issuer || '', saml_version: lastVersion, attributes }), 'application/json');
  }
  if (route === 'POST /reload') {
    await reload();
    return send(204, '');
  }
  send(404, 'not found');
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => { res.writeHead(500); res.end(String(err.stack || err)); });
});
server.listen(0, '127.0.0.1', async () => {
  base = 'http://127.0.0.1:' + server.address().port;
  await reload();
  console.log('listening ' + base);
});
