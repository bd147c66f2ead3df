// The page-side probe, injected into every page of the context before any page script runs.
// It reports, through the binding window.__harnessEvent, each fact with the time it happened in the page:
//  - every write of a watched cookie, with the value the cookie jar holds right after the write
//    (a hook on the document.cookie setter: a removal and a write-back 1 ms apart are both seen,
//    which a poll of the jar would miss);
//  - online/offline, visibility, focus/blur, freeze/resume, page show/hide.
// It observes only: it never changes what the page or the SDK does.
(config) => {
  // about:blank and other opaque documents have no cookie jar; there is nothing to watch there.
  if (window.__harnessProbe || !/^https?:$/.test(location.protocol)) return;
  window.__harnessProbe = true;
  const now = () => (performance.timeOrigin + performance.now()) / 1000;
  const emit = (kind, data) => {
    try { window.__harnessEvent({ kind, at: now(), url: location.pathname, ...data }); } catch (e) { /* binding gone at unload */ }
  };
  window.__harnessEmit = emit;
  const watched = (name) => config.cookies.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
  const desc = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  const jar = (doc) => {
    const out = {};
    for (const part of desc.get.call(doc).split(';')) {
      const i = part.indexOf('=');
      if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    }
    return out;
  };
  const state = () => ({
    online: navigator.onLine,
    visibility: document.visibilityState,
    focused: document.hasFocus(),
  });
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true,
    enumerable: desc.enumerable,
    get() { return desc.get.call(this); },
    set(value) {
      const before = jar(this);
      desc.set.call(this, value);
      const name = String(value).split('=')[0].trim();
      if (!watched(name)) return;
      const after = jar(this);
      const present = Object.prototype.hasOwnProperty.call(after, name) && after[name] !== '';
      emit('cookie', {
        name,
        op: present ? 'set' : 'removed',
        was_present: Object.prototype.hasOwnProperty.call(before, name) && before[name] !== '',
        value: present ? after[name] : null,
        via: 'document.cookie',
        ...state(),
      });
    },
  });
  for (const type of ['online', 'offline', 'focus', 'blur', 'pageshow', 'pagehide']) {
    window.addEventListener(type, () => emit(type, state()), true);
  }
  for (const type of ['visibilitychange', 'freeze', 'resume']) {
    document.addEventListener(type, () => emit(type === 'visibilitychange' ? 'visibility' : type, state()), true);
  }
  const ready = () => {
    const cookies = jar(document);
    emit('probe.ready', { ...state(), cookies: Object.keys(cookies).filter(watched) });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready, { once: true });
  else ready();
}
