// Imported by the wasm through `#[wasm_bindgen(module = …)]`, not `inline_js`: every wasm module of
// the client that links the Rust next to it gets this file under the same name with the same
// bytes. Inline snippets are numbered per module (inline0.js, inline1.js…), and the three modules
// (app, engine, report module) share one snippets folder in dist/, so an inline snippet of one
// module could overwrite another's of the same number — index.html's integrity check then blocked
// it and the app never started (seen in a build at stop 27).
export function join_cached_models(values) {
  const encoder = new TextEncoder();
  const parts = [];
  let length = 0;
  let strings = 0;
  for (const v of values) {
    if (typeof v.id !== 'string' || v.id.includes('\n')) continue;
    let model = v.model;
    if (typeof model === 'string') {
      if (model.includes('\n')) continue;
      model = encoder.encode(model);
      strings++;
    } else if (!(model instanceof Uint8Array)) {
      continue;
    }
    const id = encoder.encode(v.id);
    parts.push(id, model);
    length += id.length + model.length + 2;
  }
  const bytes = new Uint8Array(Math.max(0, length - 1));
  let at = 0;
  for (const part of parts) {
    if (at > 0) bytes[at++] = 10;
    bytes.set(part, at);
    at += part.length;
  }
  return [bytes, strings];
}

// `[docs' keys, models' records, pending keys]` → what `LocalStore::start_read` takes.
function start_answer([docs, models, pending]) {
  const ids = (keys) => JSON.stringify(keys.filter((k) => typeof k === 'string'));
  return [ids(docs), join_cached_models(models), ids(pending)];
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
