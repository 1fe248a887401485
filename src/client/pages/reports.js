// Imported by the wasm through `#[wasm_bindgen(module = …)]`, not `inline_js`: every wasm module of
// the client that links the Rust next to it gets this file under the same name with the same
// bytes. Inline snippets are numbered per module (inline0.js, inline1.js…), and the three modules
// (app, engine, report module) share one snippets folder in dist/, so an inline snippet of one
// module could overwrite another's of the same number — index.html's integrity check then blocked
// it and the app never started (seen in a build at stop 27).
let loaded = null;
// One import per page load; a failed one (offline before the first visit) is tried again next time.
export function load_report_module() {
  if (!loaded) {
    loaded = import('/danvan-reports.js')
      .then(async (m) => { await m.default({ module_or_path: '/danvan-reports_bg.wasm' }); return m; })
      .catch((e) => { loaded = null; throw e; });
  }
  return loaded;
}
