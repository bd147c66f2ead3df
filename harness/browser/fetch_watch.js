// The page-side witness of failed fetches, installed once a network flip is armed (harness/browser/flips.py).
// For every fetch() of the page whose promise rejects, it reports through the probe's channel:
//  - `fetch.failed`: the path, the error, and navigator.onLine at that moment -- a reaction registered before any
//    of the caller's own, so it runs in the same task and microtask checkpoint in which the caller (the SDK) sees
//    the rejection and decides: what it reports is what the SDK saw;
//  - `fetch.failed.next_task`: navigator.onLine once more, from the next task (a setTimeout 0 queued at the
//    failure): whether a flip had landed by then.
// It observes only: the caller gets the very promise fetch() returned (a side chain, no extra microtask on its path),
// and navigator.onLine is never touched -- online and offline are the browser's own state.
() => {
  if (window.__harnessFetchWatch || !/^https?:$/.test(location.protocol) || typeof window.fetch !== 'function') return;
  window.__harnessFetchWatch = true;
  const emit = (kind, data) => window.__harnessEmit && window.__harnessEmit(kind, data);
  const original = window.fetch;
  const pathOf = (input) => {
    try { return new URL(typeof input === 'string' || input instanceof URL ? input : input.url, location.href).pathname; }
    catch (e) { return ''; }
  };
  window.fetch = function (input, init) {
    const promise = original.apply(this, arguments);
    const path = pathOf(input);
    promise.then(null, (error) => {
      emit('fetch.failed', { path, online: navigator.onLine, error: String((error && error.message) || error) });
      setTimeout(() => emit('fetch.failed.next_task', { path, online: navigator.onLine }), 0);
    });
    return promise;
  };
}
