// Clerk-specific observation, injected before page scripts: reports each token attempt of the SDK
// (a call of Session._getToken, which the cookie poller, the focus handler and the refresh timer all go
// through; getToken where _getToken does not exist). Waits use these events ("until the SDK's next token
// attempt") because poll intervals differ between versions and with focus. Verdicts never do: they come
// from the cookie jar and the server.
() => {
  const emit = (kind, data) => window.__harnessEmit && window.__harnessEmit(kind, data);
  const hooked = new WeakSet();
  let calls = 0;
  const hook = (session) => {
    if (!session || hooked.has(session)) return;
    hooked.add(session);
    const name = typeof session._getToken === 'function' ? '_getToken' : 'getToken';
    const original = session[name];
    if (typeof original !== 'function') return;
    session[name] = function (...args) {
      const call = ++calls;
      emit('sdk.token.start', { call, via: name, online: navigator.onLine, skipCache: !!(args[0] && args[0].skipCache) });
      const done = (outcome, extra) => emit('sdk.token.end', { call, via: name, outcome, online: navigator.onLine, ...extra });
      let result;
      try { result = original.apply(this, args); } catch (e) { done('error', { error: String((e && (e.code || e.message)) || e) }); throw e; }
      // Observe on a side chain and hand the SDK its own promise back: chaining onto it would add microtasks
      // to a race-sensitive path and change what the harness is observing.
      Promise.resolve(result).then(
        (token) => done(token ? 'token' : 'empty'),
        (e) => done('error', { error: String((e && (e.code || e.message)) || e) }));
      return result;
    };
  };
  const install = () => {
    const clerk = window.Clerk;
    if (!clerk) return;
    hook(clerk.session);
    if (typeof clerk.addListener === 'function') clerk.addListener(() => hook(window.Clerk.session));
    emit('sdk.ready', { status: clerk.status || null, user: clerk.user ? clerk.user.id : null });
  };
  window.addEventListener('harness:sdk-loaded', install, { once: true });
}
