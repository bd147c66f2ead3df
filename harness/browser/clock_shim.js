// The page's wall clock, set wrong on purpose (the `clock` step; harness/clock.py). `Date` and `Date.now` read true
// time plus an offset the harness sets; the page's timers, `performance.now` and `performance.timeOrigin` are left
// alone, so timers run in real time and the probe keeps stamping events on the real clock.
// Installed once per document (as an init script, or evaluated into a live page); later calls only set the offset.
// `arm(ms)` keeps an offset for the next `resume` event: a frozen page runs no script, so a jump made while it
// sleeps is taken the moment it wakes, before any of its own handlers or timers run.
(offsetMs) => {
  if (window.__harnessClock) { window.__harnessClock.set(offsetMs); return; }
  const RealDate = Date;
  const realNow = RealDate.now;
  let offset = offsetMs;
  let pending = null;
  const now = () => realNow.call(RealDate) + offset;
  const Shifted = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      return Reflect.construct(target, args.length ? args : [now()], newTarget === Shifted ? target : newTarget);
    },
    apply() { return new RealDate(now()).toString(); },  // Date() called as a function: a string of now
    get(target, prop) { return prop === 'now' ? now : Reflect.get(target, prop, target); },
  });
  Object.defineProperty(window, 'Date', { value: Shifted, writable: true, configurable: true, enumerable: false });
  // Capture on window runs before any listener on document, where `resume` is fired.
  window.addEventListener('resume', () => { if (pending !== null) { offset = pending; pending = null; } }, true);
  Object.defineProperty(window, '__harnessClock', { enumerable: false, value: Object.freeze({
    set(ms) { offset = ms; pending = null; },
    arm(ms) { pending = ms; },
    // What the page's Date reads against the real clock now (ms): the offset as the page lives it.
    observed() { return Date.now() - (performance.timeOrigin + performance.now()); },
  }) });
}
