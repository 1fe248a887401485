// Imported by the wasm through `#[wasm_bindgen(module = …)]`, not `inline_js`: every wasm module of
// the client that links the Rust next to it gets this file under the same name with the same
// bytes. Inline snippets are numbered per module (inline0.js, inline1.js…), and the three modules
// (app, engine, report module) share one snippets folder in dist/, so an inline snippet of one
// module could overwrite another's of the same number — index.html's integrity check then blocked
// it and the app never started (seen in a build at stop 27).
// The cached models' records → `[JSON of their ids, their models (bytes)]`. The models stay as
// the records hold them until the app asks for them a slice at a time (`cached_slice`). A record
// whose model is not bytes (JSON as a string, written before stop 27) is left out: the app finds
// no cached model for that document and the engine decodes it again.
export function cached_parts(values) {
  const ids = [];
  const models = [];
  for (const v of values) {
    if (typeof v.id !== 'string' || !(v.model instanceof Uint8Array)) continue;
    ids.push(v.id);
    models.push(v.model);
  }
  return [JSON.stringify(ids), models];
}

// The models `from`..`to` of `cached_parts`' list as one buffer and where each ends: one
// crossing into wasm per slice instead of several per model.
export function cached_slice(models, from, to) {
  const parts = models.slice(from, to);
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  const ends = new Uint32Array(parts.length);
  let at = 0;
  parts.forEach((part, i) => {
    bytes.set(part, at);
    at += part.length;
    ends[i] = at;
  });
  return [bytes, ends];
}

// `[docs' keys, models' records, pending keys]` → what `LocalStore::start_read` takes.
function start_answer([docs, models, pending]) {
  const ids = (keys) => JSON.stringify(keys.filter((k) => typeof k === 'string'));
  return [ids(docs), cached_parts(models), ids(pending)];
}

export function read_start(tx) {
  const answer = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  // The models cache unreadable: no cache (the engine decodes the documents again), not no start.
  const models = answer(tx.objectStore('models').getAll()).catch(() => []);
  return Promise.all([answer(tx.objectStore('docs').getAllKeys()), models, answer(tx.objectStore('pending').getAllKeys())]).then(start_answer);
}

export function doc_digests(values) {
  const pairs = [];
  const without = [];
  for (const v of values) {
    if (typeof v.id !== 'string') continue;
    if (typeof v.digest === 'string') pairs.push(v.id, v.digest);
    else without.push(v);
  }
  return [pairs, without];
}

