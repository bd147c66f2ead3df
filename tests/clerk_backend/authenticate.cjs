// Asks the real @clerk/backend what authenticateRequest decides for each crafted request.
// Reads one JSON object on stdin: {modules, publishableKey, jwtKey, proxyUrl, cases: [{name, url, method, headers}]}
// (`modules`: the folder whose node_modules holds @clerk/backend). Writes one JSON array: per case its status,
// reason, and the handshake Location and Set-Cookie headers. Networkless: the token is verified with jwtKey.
const { createRequire } = require('node:module');
const path = require('node:path');

// Its own log lines (a redirect-loop warning) go to stderr: stdout is the answer.
console.log = (...args) => process.stderr.write(args.join(' ') + '\n');

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const job = JSON.parse(input);
  const { createClerkClient } = createRequire(path.join(job.modules, 'package.json'))('@clerk/backend');
  const clerk = createClerkClient({ publishableKey: job.publishableKey, secretKey: 'sk_live_mock' });
  const out = [];
  for (const c of job.cases) {
    const state = await clerk.authenticateRequest(new Request(c.url, { method: c.method, headers: c.headers }), {
      jwtKey: job.jwtKey, proxyUrl: job.proxyUrl, publishableKey: job.publishableKey,
    });
    out.push({ name: c.name, status: state.status, reason: state.reason || null,
               location: state.headers.get('location'), setCookie: state.headers.getSetCookie() });
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
