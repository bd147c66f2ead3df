// A tiny server for a single-page app: the page, its config from the environment, the supabase-js bundle, and one
// API route that asks the auth server who the caller is (as a Supabase backend does with auth.getUser(jwt)).
//   SUPABASE_URL      the project URL; "same-origin" = the page's own origin (a proxy in front serves /auth/v1)
//   SUPABASE_ANON_KEY the project's public key
//   SUPABASE_JS_URL   where the page loads supabase-js from (default: the copy in node_modules)
// Usage: node server.mjs [--port N] [--host H]   (default 127.0.0.1:3000)
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const port = Number(arg("port", process.env.PORT || 3000));
const host = arg("host", "127.0.0.1");
const config = {
  supabaseUrl: process.env.SUPABASE_URL || "same-origin",
  anonKey: process.env.SUPABASE_ANON_KEY || "",
  supabaseJsUrl: process.env.SUPABASE_JS_URL || "/vendor/supabase.js",
};

const send = (res, status, type, body) => {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(body);
};

async function whoami(req, res) {
  // The caller's access token, checked by the auth server: 200 with the user, or 401.
  const auth = req.headers.authorization || "";
  if (!auth.startsWith("Bearer ")) return send(res, 401, "application/json", JSON.stringify({ signed_in: false }));
  const base = config.supabaseUrl === "same-origin" ? `http://${req.headers.host}` : config.supabaseUrl;
  try {
    const r = await fetch(`${base}/auth/v1/user`, { headers: { Authorization: auth, apikey: config.anonKey } });
    if (!r.ok) return send(res, 401, "application/json", JSON.stringify({ signed_in: false, status: r.status }));
    const user = await r.json();
    return send(res, 200, "application/json", JSON.stringify({ signed_in: true, user: user.id }));
  } catch (e) {
    return send(res, 502, "application/json", JSON.stringify({ error: String(e) }));
  }
}

createServer(async (req, res) => {
  const url = new URL(req.url, "http://localhost");
  try {
    if (url.pathname === "/" || url.pathname === "/index.html") {
      return send(res, 200, "text/html", await readFile(path.join(here, "index.html")));
    }
    if (url.pathname === "/app.js") return send(res, 200, "text/javascript", await readFile(path.join(here, "app.js")));
    if (url.pathname === "/config.js") {
      return send(res, 200, "text/javascript", `window.APP_CONFIG = ${JSON.stringify(config)};\n`);
    }
    if (url.pathname === "/vendor/supabase.js") {
      const file = path.join(here, "node_modules/@supabase/supabase-js/dist/umd/supabase.js");
      return send(res, 200, "text/javascript", await readFile(file));
    }
    if (url.pathname === "/api/me") return whoami(req, res);
    return send(res, 404, "text/plain", "not found\n");
  } catch (e) {
    return send(res, 500, "text/plain", String(e));
  }
}).listen(port, host, () => console.log(`supabase-spa listening on http://${host}:${port}/`));
