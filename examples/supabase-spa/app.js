// The app: one supabase-js client, the user it holds, and a call to the app's own API with the access token.
const cfg = window.APP_CONFIG;
const url = cfg.supabaseUrl === "same-origin" ? location.origin : cfg.supabaseUrl;
const client = window.supabase.createClient(url, cfg.anonKey, { auth: { autoRefreshToken: true, persistSession: true } });
// Exposed for tests (the session-survival harness reads the SDK's view through it); supabase-js has no global client.
window.__harnessSupabase = client;

async function show() {
  const { data } = await client.auth.getSession();
  const session = data && data.session;
  document.getElementById("user").textContent = session ? `signed in: ${session.user.email}` : "signed out";
  const headers = session ? { Authorization: `Bearer ${session.access_token}` } : {};
  try {
    const r = await fetch("/api/me", { headers, cache: "no-store" });
    document.getElementById("api").textContent = `/api/me: ${r.status}`;
  } catch (e) {
    document.getElementById("api").textContent = "/api/me: failed (offline?)";
  }
}

document.getElementById("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  await client.auth.signInWithPassword({ email: form.get("email"), password: form.get("password") });
  show();
});
client.auth.onAuthStateChange((event) => { if (event === "SIGNED_IN" || event === "SIGNED_OUT") show(); });
show();
