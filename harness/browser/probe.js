// The page-side probe, injected into every page of the context before any page script runs.
// It reports, through the binding window.__harnessEvent, each fact with the time it happened in the page:
//  - every write of a watched cookie, with the value the cookie jar holds right after the write
//    (a hook on the document.cookie setter: a removal and a write-back 1 ms apart are both seen,
//    which a poll of the jar would miss);
//  - every setItem/removeItem/clear of a watched localStorage key (config.storage: exact keys), and every
//    `storage` event for one (a write by another tab), as `storage` events shaped like the cookie ones
//    (name, op set/removed, was_present, via); for a JSON value, its access_token (or the field config.identity
//    names, a dotted path) stands for the value;
//  - with config.area 'indexedDB', instead: every put/add/delete/clear on the object store config.place names
//    ([database, store]) that touches a watched key, reported as the same `storage` events once its transaction
//    has committed (an aborted one wrote nothing). IndexedDB has no cross-tab event: each tab's probe reports its
//    own writes, so another tab's writes come from that tab;
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
  if (config.area === 'indexedDB') watchIndexedDB(config.storage || [], config.place || [], emit, state);
  else watchStorage(config.storage || [], emit, state);
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

  // A stored record (a JSON string, or an IndexedDB value) -> the field a dotted path names, or undefined.
  function field(record, path) {
    let v = record;
    if (typeof v === 'string') { try { v = JSON.parse(v); } catch (e) { return undefined; } }
    for (const part of path.split('.')) { if (v === null || typeof v !== 'object') return undefined; v = v[part]; }
    return v;
  }
  // The part of a stored value that identifies it: the session's access token (config.identity, a dotted path).
  function token(raw) {
    if (raw === null || raw === undefined) return null;
    const v = config.identity ? field(raw, config.identity)
      : (field(raw, 'access_token') || field(raw, 'currentSession.access_token'));
    return typeof v === 'string' && v ? v : (typeof raw === 'string' ? raw : null);
  }
  // The record's renewing field (config.renewal, e.g. refresh_token), when the adapter names one; the driver keeps
  // only a fingerprint of it.
  function renews(raw) {
    if (!config.renewal || raw === null || raw === undefined) return {};
    const r = field(raw, config.renewal) || field(raw, 'currentSession.' + config.renewal);
    return typeof r === 'string' && r ? { renewal: r } : {};  // an object would print as one shared label
  }

  function watchIndexedDB(keys, place, emit, state) {
    if (!keys.length || place.length !== 2 || typeof IDBObjectStore === 'undefined') return;
    const [database, storeName] = place;
    const proto = IDBObjectStore.prototype;
    const original = { put: proto.put, add: proto.add, delete: proto.delete, clear: proto.clear, count: proto.count };
    const ours = (os) => { try { return os.name === storeName && os.transaction.db.name === database; } catch (e) { return false; } };
    const keyOf = (os, value, key) => {
      if (key !== undefined) return key;
      return typeof os.keyPath === 'string' && value && typeof value === 'object' ? value[os.keyPath] : undefined;
    };
    // Whether the key was there before the write: a count on the same store, queued in the SDK's own transaction
    // ahead of its write (requests of one transaction run in order), so it sees exactly the state the write changed.
    const before = (os, key) => {
      const out = { present: null };
      try { const r = original.count.call(os, key); r.onsuccess = () => { out.present = r.result > 0; }; } catch (e) { /* */ }
      return out;
    };
    const report = (os, key, was, via, value) => {
      os.transaction.addEventListener('complete', () => {
        const present = via === 'put' || via === 'add';
        emit('storage', { name: key, op: present ? 'set' : 'removed', was_present: was.present, via: 'indexedDB.' + via,
                          value: present ? token(value) : null, ...(present ? renews(value) : {}), ...state() });
      });
    };
    for (const via of ['put', 'add']) {
      proto[via] = function (value, key) {
        const name = ours(this) ? keyOf(this, value, key) : undefined;
        if (!keys.includes(name)) return original[via].apply(this, arguments);
        const was = before(this, name);
        const request = original[via].apply(this, arguments);
        report(this, name, was, via, value);
        return request;
      };
    }
    proto.delete = function (query) {
      if (!ours(this) || !keys.includes(query)) return original.delete.apply(this, arguments);
      const was = before(this, query);
      const request = original.delete.apply(this, arguments);
      report(this, query, was, 'delete', null);
      return request;
    };
    proto.clear = function () {
      if (!ours(this)) return original.clear.apply(this, arguments);
      const was = keys.map((k) => before(this, k));
      const request = original.clear.apply(this, arguments);
      keys.forEach((k, i) => report(this, k, was[i], 'clear', null));
      return request;
    };
  }

  function watchStorage(keys, emit, state) {
    if (!keys.length) return;
    let store;
    try { store = window.localStorage; } catch (e) { return; }  // storage disabled for this document
    const proto = Storage.prototype;
    const original = { getItem: proto.getItem, setItem: proto.setItem, removeItem: proto.removeItem, clear: proto.clear };
    const has = (key) => original.getItem.call(store, key) !== null;
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
