"""Init scripts that tell the harness, on the user's app page, when the SDK has loaded (``window.__harnessLoaded``).

The harness's own test page sets ``__harnessLoaded`` itself; an app does not know the harness, so on an app page
this script (a function expression, as the driver's init scripts are) watches the SDK's global and sets it (and
``__harnessUser``) once the SDK is ready -- the same contract the adapters' ``loaded_js`` and ``sdk_state_js`` read.
Per adapter:

* Clerk: ``window.Clerk.loaded`` (the global exists in Core 2 and 3 apps);
* Supabase: the app exposes its client as ``window.__harnessSupabase`` (an app opt-in: supabase-js has no global
  client); the probe's hooks go on when the UMD bundle sets ``window.supabase`` and when the client is exposed; ready
  once ``getSession()`` settled and, if a ``whoami`` path is named, the page's first call to it answered (at most 5 s).
"""

from __future__ import annotations

import json

CLERK = """() => {
  if (window.top !== window) return;
  const tick = () => {
    const c = window.Clerk;
    if (c && c.loaded) {
      window.__harnessUser = c.user ? c.user.id : null;
      window.__harnessLoaded = window.__harnessLoaded || 'ok';
      window.dispatchEvent(new Event('harness:sdk-loaded'));
      return;
    }
    setTimeout(tick, 25);
  };
  tick();
}"""

SUPABASE = """() => {
  if (window.top !== window) return;
  const whoami = __WHOAMI__;
  let answered = !whoami;
  const origFetch = window.fetch;
  window.fetch = function (...args) {
    const result = origFetch.apply(this, args);
    try {
      const url = new URL(args[0] instanceof Request ? args[0].url : String(args[0]), location.href);
      if (whoami && url.origin === location.origin && url.pathname === whoami) {
        result.then(() => { answered = true; }, () => { answered = true; });
      }
    } catch (e) { /* not a URL we watch */ }
    return result;
  };
  let lib, client;
  const hook = (l, auth) => { if (window.__harnessHookSupabase) window.__harnessHookSupabase(l, auth); };
  Object.defineProperty(window, 'supabase', { configurable: true, enumerable: true,
    get() { return lib; }, set(v) { lib = v; hook(v); } });
  Object.defineProperty(window, '__harnessSupabase', { configurable: true, enumerable: true,
    get() { return client; },
    set(v) {
      client = v;
      hook(null, v && v.auth);
      (async () => {
        try {
          const { data } = await v.auth.getSession();
          window.__harnessUser = data && data.session && data.session.user ? data.session.user.id : null;
        } catch (e) { /* the SDK's own failure is its view, read later */ }
        const until = Date.now() + 5000;
        while (!answered && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
        window.__harnessLoaded = window.__harnessLoaded || 'ok';
        window.dispatchEvent(new Event('harness:sdk-loaded'));
      })();
    } });
}"""


def script_for(sdk: str, whoami: str | None) -> str:
    """The readiness init script of an app page for the adapter named ``sdk``."""
    if sdk == "clerk":
        return CLERK
    if sdk == "supabase":
        return SUPABASE.replace("__WHOAMI__", json.dumps(whoami))
    raise KeyError(sdk)


SDK_GLOBAL = {"clerk": "window.Clerk", "supabase": "window.__harnessSupabase"}
