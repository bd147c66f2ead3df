// The page-side probe, injected into every page of the context before any page script runs.
// It reports, through the binding window.__harnessEvent, each fact with the time it happened in the page:
//  - every write of a watched cookie, with the value the cookie jar holds right after the write
//    (a hook on the document.cookie setter: a removal and a write-back 1 ms apart are both seen,
//    which a poll of the jar would miss);
//  - every setItem/removeItem/clear of a watched localStorage key (config.storage: exact keys), and every
//    `storage` event for one (a write by another tab), as `storage` events shaped like the cookie ones
//    (name, op set/removed, was_present, via); for a JSON value, its access_token stands for the value;
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
  watchStorage(config.storage || [], config.renewal || null, emit, state);
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

  function watchStorage(keys, renewal, emit, state) {
    if (!keys.length) return;
    let store;
    try { store = window.localStorage; } catch (e) { return; }  // storage disabled for this document
    const proto = Storage.prototype;
    const original = { getItem: proto.getItem, setItem: proto.setItem, removeItem: proto.removeItem, clear: proto.clear };
    const has = (key) => original.getItem.call(store, key) !== null;
    const token = (raw) => {  // the part of the value that identifies it: the session's access token
      if (raw === null || raw === undefined) return null;
      try { const v = JSON.parse(raw); return (v && (v.access_token || (v.currentSession && v.currentSession.access_token))) || String(raw); }
      catch (e) { return String(raw); }
    };
    // The record's renewing field (config.renewal, e.g. refresh_token), when the adapter names one; the driver keeps
    // only a fingerprint of it.
    const renews = (raw) => {
      if (!renewal || raw === null || raw === undefined) return {};
      try {
        const v = JSON.parse(raw);
        const r = v && (v[renewal] || (v.currentSession && v.currentSession[renewal]));
        return typeof r === 'string' && r ? { renewal: r } : {};  // an object would print as one shared label
      } catch (e) { return {}; }
    };
    const report = (key, before, via) => {
      const present = has(key);
      const raw = present ? original.getItem.call(store, key) : null;
      emit('storage', { name: key, op: present ? 'set' : 'removed', was_present: before, via,
                        value: present ? token(raw) : null, ...renews(raw), ...state() });
    };
    proto.setItem = function (key, value) {
      if (this !== store || !keys.includes(String(key))) return original.setItem.call(this, key, value);
      const before = has(String(key));
      try { return original.setItem.call(this, key, value); } finally { report(String(key), before, 'setItem'); }
    };
    proto.removeItem = function (key) {
      if (this !== store || !keys.includes(String(key))) return original.removeItem.call(this, key);
      const before = has(String(key));
      try { return original.removeItem.call(this, key); } finally { report(String(key), before, 'removeItem'); }
    };
    proto.clear = function () {
      if (this !== store) return original.clear.call(this);
      const before = keys.filter(has);
      try { return original.clear.call(this); } finally { for (const key of keys) report(key, before.includes(key), 'clear'); }
    };
    // Another tab of the same origin wrote the key: this tab sees it as a `storage` event (key null: clear()).
    window.addEventListener('storage', (e) => {
      if (e.storageArea !== store) return;
      for (const key of e.key === null ? keys : [e.key]) {
        if (!keys.includes(key)) continue;
        const before = e.key === null ? true : e.oldValue !== null;
        const present = e.key === null ? false : e.newValue !== null;
        emit('storage', { name: key, op: present ? 'set' : 'removed', was_present: before, via: 'storage-event',
                          value: present ? token(e.newValue) : null, ...(present ? renews(e.newValue) : {}),
                          ...state() });
      }
    }, true);
  }
}
