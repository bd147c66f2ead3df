// Firebase-specific observation, injected before page scripts. The SDK sends every Auth REST call through the
// page's fetch (its FetchProvider reads self.fetch at each call), so a wrapper on window.fetch sees them without
// touching the SDK. Reported:
//  - each check of the stored session against the server -- the user reload (`accounts:lookup`, which start-up runs
//    on the persisted user) and each token refresh (`securetoken .../token`) -- as sdk.token.start / sdk.token.end
//    (`via` says which; outcome `token`, `error` with the status and Google's error message, or `failed` when the
//    fetch itself failed), the kinds the other probes use, so `wait_for: token_attempt` means "the SDK finished
//    checking its session with the server" for Firebase too;
// Verdicts never come from here: they come from the store's watcher and the server. The SDK gets its own promise
// and response back untouched (the body is read from a clone).
() => {
  const emit = (kind, data) => window.__harnessEmit && window.__harnessEmit(kind, data);
  const original = window.fetch;
  if (typeof original !== 'function' || original.__harnessHooked) return;
  let calls = 0;
  const which = (url) => (/accounts:lookup/.test(url) ? 'accounts:lookup'
    : /securetoken\.googleapis\.com\/v1\/token/.test(url) ? 'securetoken' : null);
  const wrapped = function (input, init) {
    const url = String((input && input.url) || input);
    const via = which(url);
    if (!via) return original.apply(this, arguments);
    const call = ++calls;
    emit('sdk.token.start', { call, via, online: navigator.onLine, visibility: document.visibilityState });
    const done = (outcome, extra) => emit('sdk.token.end', { call, via, outcome, online: navigator.onLine, ...extra });
    const result = original.apply(this, arguments);
    result.then((response) => {
      if (response.ok) { done('token'); return; }
      response.clone().json().then((b) => done('error', { status: response.status, error: b && b.error && b.error.message }),
                                    () => done('error', { status: response.status, error: 'not JSON' }));
    }, (e) => done('failed', { error: String((e && (e.message || e.name)) || e) }));
    return result;
  };
  wrapped.__harnessHooked = true;
  window.fetch = wrapped;
}
