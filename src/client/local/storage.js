// Imported by the wasm through `#[wasm_bindgen(module = …)]`, not `inline_js`: every wasm module of
// the client that links the Rust next to it gets this file under the same name with the same
// bytes. Inline snippets are numbered per module (inline0.js, inline1.js…), and the three modules
// (app, engine, report module) share one snippets folder in dist/, so an inline snippet of one
// module could overwrite another's of the same number — index.html's integrity check then blocked
// it and the app never started (seen in a build at stop 27).
// The cached models' records → `[JSON of their ids, their models (UTF-8 bytes, or a string as
// written before stop 27), how many are strings]`. The models stay as the records hold them until
// the app asks for them a slice at a time (`cached_slice`).
export function cached_parts(values) {
  const ids = [];
  const models = [];
  let strings = 0;
  for (const v of values) {
    if (typeof v.id !== 'string') continue;
    const model = v.model;
    if (typeof model === 'string') strings++;
    else if (!(model instanceof Uint8Array)) continue;
    ids.push(v.id);
    models.push(model);
  }
  return [JSON.stringify(ids), models, strings];
}

// The models `from`..`to` of `cached_parts`' list as one buffer of UTF-8 and where each ends:
// one crossing into wasm per slice instead of several per model.
export function cached_slice(models, from, to) {
  const encoder = new TextEncoder();
  const parts = [];
  let length = 0;
  for (let i = from; i < to && i < models.length; i++) {
    const model = typeof models[i] === 'string' ? encoder.encode(models[i]) : models[i];
    parts.push(model);
    length += model.length;
  }
  const bytes = new Uint8Array(length);
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

export function cached_models_as_bytes(values) {
  const encoder = new TextEncoder();
  return values.filter((v) => typeof v.model === 'string').map((v) => ({ ...v, model: encoder.encode(v.model) }));
}
