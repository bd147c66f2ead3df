// Supabase-specific observation, injected before page scripts. The app page calls
// window.__harnessHookSupabase(supabase) after the bundle loads and before createClient, so the hooks sit on
// GoTrueClient.prototype before the client's own initialisation runs; bundles that do not export GoTrueClient
// (later 2.x) are hooked right after createClient, on the prototype of client.auth that defines the methods
// (window.__harnessHookSupabase(null, client.auth)), before any of its initialisation's awaits resolve. Reported:
//  - each refresh attempt of the SDK (_callRefreshToken, which recovery on load, the tab becoming visible, the
//    auto-refresh ticker and getSession all go through) as sdk.token.start / sdk.token.end, the same kinds as the
//    Clerk probe, so `wait_for: token_attempt` means "the SDK finished a refresh attempt" for both;
//  - each _removeSession as sdk.session.remove (evidence beside the storage watcher, never a verdict).
// Verdicts never come from here: they come from the localStorage watcher and the server.
() => {
  const emit = (kind, data) => window.__harnessEmit && window.__harnessEmit(kind, data);
  let calls = 0;
  const describe = (e) => String((e && (e.name || e.message)) || e);
  const owner = (auth) => {  // the prototype on the chain of an auth client that defines _callRefreshToken
    for (let p = auth && Object.getPrototypeOf(auth); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      if (Object.prototype.hasOwnProperty.call(p, '_callRefreshToken')) return p;
    }
    return null;
  };
  window.__harnessHookSupabase = (lib, auth) => {
    const proto = (lib && lib.GoTrueClient && lib.GoTrueClient.prototype) || owner(auth);
    if (!proto || proto.__harnessHooked) return;
    proto.__harnessHooked = true;
    const refresh = proto._callRefreshToken;
    if (typeof refresh === 'function') {
      proto._callRefreshToken = function (...args) {
        const call = ++calls;
        emit('sdk.token.start', { call, via: '_callRefreshToken', online: navigator.onLine,
                                  visibility: document.visibilityState });
        const done = (outcome, extra) => emit('sdk.token.end', { call, via: '_callRefreshToken', outcome,
                                                                 online: navigator.onLine, ...extra });
        const result = refresh.apply(this, args);
        // Observed on a side chain; the SDK gets its own promise back untouched.
        Promise.resolve(result).then(
          // {session, error} up to 2.4x; {data: {session}, error} in later auth-js
          (r) => (r && (r.session || (r.data && r.data.session))) ? done('token')
            : done('error', { error: describe(r && r.error), status: r && r.error && r.error.status }),
          (e) => done('error', { error: describe(e) }));
        return result;
      };
    }
    const remove = proto._removeSession;
    if (typeof remove === 'function') {
      proto._removeSession = function (...args) {
        emit('sdk.session.remove', { online: navigator.onLine, visibility: document.visibilityState });
        return remove.apply(this, args);
      };
    }
  };
}
