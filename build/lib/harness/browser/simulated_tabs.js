// The SIMULATED tab lifecycle, for browsers where the real one is unavailable (no full Chromium): an init script
// that overrides document.visibilityState / document.hidden / document.hasFocus() and dispatches the events a real
// Chromium fires, in the order a real Chromium fires them (observed with the harness's real mode):
//   hide / minimise : blur (if focused), visibilitychange:hidden
//   show            : visibilitychange:visible, focus
//   restore         : visibilitychange:visible, then focus if the page had focus when minimised
//   freeze          : blur (if focused), visibilitychange:hidden (if visible), freeze
//   resume          : resume (the page stays hidden, as in a real Chromium; the driver then shows it if it was visible)
//   blur / focus    : blur / focus (once: the real mode's double `focus` on a first activation is not imitated)
// Nothing here is the browser's own behaviour: every result of a run that used it is labelled `simulated`.
// The state lives in sessionStorage (per tab, survives a reload), so a reloaded background tab stays hidden.
() => {
  if (window.__harnessSimTab || !/^https?:$/.test(location.protocol)) return;
  const KEY = '__harness_sim_tab';
  // A tab starts as in the real mode, so a scenario behaves alike in both: visible and focused, except the browser's
  // first tab, which a self-launched headless Chromium shows unfocused. The driver marks that tab with a page-level
  // init script (window.__harnessSimFirstTab), which may run after this one: the state is read on first use.
  let state = null;
  const st = () => {
    if (state) return state;
    const focused = !window.__harnessSimFirstTab;
    state = { visibility: 'visible', focused, frozen: false, wasFocused: focused };
    try { const saved = sessionStorage.getItem(KEY); if (saved) state = { ...state, ...JSON.parse(saved) }; } catch (e) { /* opaque origin */ }
    return state;
  };
  const save = () => { try { sessionStorage.setItem(KEY, JSON.stringify(st())); } catch (e) { /* opaque origin */ } };
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get() { return st().visibility; } });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get() { return st().visibility === 'hidden'; } });
  const realHasFocus = Document.prototype.hasFocus;
  Document.prototype.hasFocus = function hasFocus() { return this === document ? st().focused : realHasFocus.call(this); };
  const focusEvent = (type) => { st().focused = type === 'focus'; save(); window.dispatchEvent(new FocusEvent(type)); };
  const visibility = (value) => { st().visibility = value; save(); document.dispatchEvent(new Event('visibilitychange')); };
  const hide = () => {
    if (st().visibility === 'visible') st().wasFocused = st().focused;
    if (st().focused) focusEvent('blur');
    if (st().visibility !== 'hidden') visibility('hidden');
  };
  // Bringing a tab to the front always focuses it; restoring a window gives focus back only if it had it.
  const show = () => { if (st().visibility !== 'visible') visibility('visible'); if (!st().focused) focusEvent('focus'); };
  const restore = () => {
    if (st().visibility !== 'visible') visibility('visible');
    if (st().wasFocused && !st().focused) focusEvent('focus');
  };
  const actions = {
    hide, minimise: hide, show, restore,
    blur: () => focusEvent('blur'),
    focus: () => focusEvent('focus'),
    freeze: () => { hide(); st().frozen = true; save(); document.dispatchEvent(new Event('freeze')); },
    resume: () => { st().frozen = false; save(); document.dispatchEvent(new Event('resume')); },
  };
  window.__harnessSimTab = (action) => {
    if (action === 'state') return { ...st() };
    const run = actions[action];
    if (!run) throw new Error('unknown simulated tab action ' + action);
    run();
    return { ...st() };
  };
}
