// A foreign sync peer: the JavaScript automerge (@automerge/automerge, a second implementation
// of automerge, not the Rust crate the app uses) talking to the real danvan-server, written from
// ARCHITECTURE.md's "Model document (schema v1)" and "Sync protocol (v3)" sections only. Two
// peers (two cadres of one commune, each with their own replica) push a model, pull it from the
// feed, edit its narratives with Vietnamese diacritics both ways and concurrently, and converge.
// The server refuses any document the app's own Rust reader (`doc::read_model`) cannot read, so
// every accepted push is also proof that the Rust side reads what JavaScript wrote.
//
// Needs DANVAN_SERVER_BIN (a built danvan-server); starts it on a fresh SQLite database with the
// accounts made by its command line, as an operator would.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as A from '@automerge/automerge';
import { CONTENT_TYPE, PROTOCOL, decodeResponse, encodeRequest, hex } from './envelope.mjs';

const SERVER = process.env.DANVAN_SERVER_BIN;
const UNITS = fileURLToPath(new URL('../e2e/units.csv', import.meta.url));
const PASSWORD = 'mật khẩu của máy khác';

let work;
let server;
let base;

function cli(...args) {
  return execFileSync(SERVER, ['--database', join(work, 'peer.sqlite3'), ...args], {
    input: `${PASSWORD}\n`,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

before(async () => {
  assert.ok(SERVER, 'DANVAN_SERVER_BIN must name a built danvan-server');
  work = mkdtempSync(join(tmpdir(), 'danvan-peer-'));
  cli('import-units', UNITS);
  cli('create-user', '--username', 'canbo.a', '--unit', 'BANBO', '--role', 'can_bo', '--name', 'Cán bộ A');
  cli('create-user', '--username', 'canbo.b', '--unit', 'BANBO', '--role', 'can_bo', '--name', 'Cán bộ B');
  server = spawn(SERVER, ['--addr', '127.0.0.1:0', '--database', join(work, 'peer.sqlite3'), '--dist', join(work, 'no-client')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    const onData = (chunk) => {
      out += chunk;
      const m = out.match(/running at (http:\/\/\S+?)\/?\s/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
});

after(() => {
  server?.kill();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function signIn(username) {
  const res = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(res.status, 200, `sign-in of ${username}: ${await res.clone().text()}`);
  const body = await res.json();
  assert.equal(body.profile.username, username);
  return body.token;
}

const S = (s) => new A.ImmutableString(s);

/** True for the wrappers that make automerge write a scalar of a given type. */
const scalar = (v) => v === null || typeof v !== 'object' || [A.ImmutableString, A.Uint, A.Int, A.Float64].some((t) => v instanceof t);

/**
 * Writes `fields` into the map `target`, making each nested map and list empty first and then
 * setting its keys one by one. automerge JS 3.5 writes a `Uint`, `Int` or `Float64` wrapper that
 * sits inside an object or array literal (or is pushed into a list) as a map, not as the number
 * (see ARCHITECTURE.md); set on a map's key directly, it is the scalar.
 */
function assign(target, fields) {
  for (const [key, value] of Object.entries(fields)) {
    if (scalar(value)) {
      target[key] = value;
    } else if (Array.isArray(value)) {
      target[key] = [];
      for (const item of value) {
        target[key].push({});
        assign(target[key][target[key].length - 1], item);
      }
    } else {
      target[key] = {};
      assign(target[key], value);
    }
  }
}

/** A model exactly as the schema table says: scalar strings, Text narratives, Uint, Int, F64 (write it with `assign`). */
function newModel(id, by, now) {
  return {
    schema: new A.Uint(1),
    id: S(id),
    name: S('Hũ gạo tình thương bản Nà Lạ'),
    situation: 'Nhiều hộ ở bản Nà Lạ thiếu gạo lúc giáp hạt. Trẻ em phải nghỉ học để đi làm thuê.',
    goals: 'Mỗi tháng góp ít nhất 200 kg gạo cho các hộ khó khăn.',
    content: 'Mỗi hộ góp một nắm gạo trước mỗi bữa nấu; chi hội thu gom vào ngày rằm.',
    area: 'Bản Nà Lạ, xã Bản Bo',
    forces: 'Chi hội Phụ nữ chủ trì, Đoàn thanh niên phối hợp',
    resources: 'Gạo do các hộ đóng góp',
    sustainability: 'Duy trì bằng hương ước của bản.',
    start_date: S('2026-01-15'),
    end_date: S(''),
    evaluation_date: S(''),
    indicators: [{ id: S('i1'), name: S('Số hộ được hỗ trợ'), unit: S('hộ'), target: new A.Float64(40), achieved: new A.Float64(12.5) }],
    owner_kind: S('tap_the'),
    owner_name: S('Chi hội Phụ nữ bản Nà Lạ'),
    field: S('kinh_te'),
    unit: S('BANBO'),
    level: S('co_so'),
    year: new A.Uint(2026),
    status: S('dang_ky'),
    transitions: [],
    commendations: [],
    unit_name: S('Xã Bản Bo'),
    replicated_from: null,
    replications: [],
    evaluations: [],
    journal: [{
      id: S(randomUUID()),
      date: S('2026-02-14'),
      text: S('Họp dân ở nhà văn hóa bản; 30 hộ đăng ký góp gạo.'),
      updates: [{ indicator: S('i1'), name: S('Số hộ được hỗ trợ'), unit: S('hộ'), achieved: new A.Float64(12) }],
      photos: [],
      location: { lat: new A.Float64(22.9), lon: new A.Float64(106.2), accuracy: new A.Float64(0) },
      place: S('Nhà văn hóa bản Nà Lạ'),
      by: S(by),
      by_name: S('Cán bộ A'),
      at: new A.Int(now),
    }],
    created_by: S(by),
    created_at: new A.Int(now),
    updated_by: S(by),
    updated_at: new A.Int(now),
  };
}

/** One replica: documents with their sync states, the feed cursor, and a sign-in. */
class Peer {
  constructor(token) {
    this.token = token;
    this.docs = new Map(); // id → { doc, state, pushed, dirty }
    this.cursor = { server: null, position: 0, scope: 0 };
    this.requests = [];
    this.sent = []; // bytes of each document's message (and whole document) sent
  }

  /** A change in milliseconds, as the schema says (the JS default is seconds). */
  change(id, message, fn) {
    const entry = this.docs.get(id) ?? { doc: A.init(), state: A.initSyncState(), pushed: false };
    entry.doc = A.change(entry.doc, { message, time: Date.now() }, fn);
    entry.dirty = true;
    this.docs.set(id, entry);
  }

  doc(id) {
    return this.docs.get(id)?.doc;
  }

  async post(request) {
    const body = encodeRequest(request);
    this.requests.push(body);
    const res = await fetch(`${base}/api/sync`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': CONTENT_TYPE, 'Accept-Encoding': 'br, gzip' },
      body,
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(res.status, 200, `sync answered ${res.status}: ${new TextDecoder().decode(bytes)}`);
    assert.equal(res.headers.get('content-type'), CONTENT_TYPE);
    return decodeResponse(bytes);
  }

  /** Rounds until nothing is left to say and the feed is drained; returns the failures. */
  async sync() {
    const errors = [];
    for (let round = 0; round < 20; round++) {
      const docs = [];
      for (const [id, entry] of this.docs) {
        if (!entry.dirty) continue;
        if (round === 0 && entry.serverHeads) {
          // As the Rust client does: assume the server still holds the heads it last said it
          // had, so that the first message already carries the changes since (one round trip
          // per edit). The server keeps no sync state; a message from a stale or fresh state
          // would make this side resend the whole document. The assumption is fed to automerge
          // as if the server had said it.
          const assumed = A.encodeSyncMessage({
            type: 'v1',
            heads: entry.serverHeads,
            need: [],
            have: [{ lastSync: entry.serverHeads, bloom: new Uint8Array(0) }],
            changes: [],
          });
          [entry.doc, entry.state] = A.receiveSyncMessage(entry.doc, A.initSyncState(), assumed);
        }
        const [state, message] = A.generateSyncMessage(entry.doc, entry.state);
        entry.state = state;
        if (!message) {
          entry.dirty = false;
          continue;
        }
        // Never synced with this server: the whole document goes along with the message.
        const document = entry.pushed ? null : A.save(entry.doc);
        entry.pushed = true;
        docs.push({ id, message, document });
      }
      this.sent.push(...docs.map((d) => d.message.length + (d.document?.length ?? 0)));
      const res = await this.post({
        protocol: PROTOCOL,
        server: this.cursor.server,
        cursor: this.cursor.position,
        feed_budget: null,
        scope: this.cursor.scope,
        docs,
      });
      assert.equal(res.protocol, PROTOCOL);
      assert.equal(res.rewound, false);
      for (const reply of res.docs) {
        const entry = this.docs.get(reply.id);
        const [doc, state] = A.receiveSyncMessage(entry.doc, entry.state, reply.message);
        const serverHeads = A.decodeSyncMessage(reply.message).heads;
        // Settled once the server holds what this replica holds (as the Rust client decides).
        const dirty = serverHeads.slice().sort().join() !== A.getHeads(doc).slice().sort().join();
        Object.assign(entry, { doc, state, dirty, serverHeads });
      }
      for (const f of res.feed) {
        const held = this.docs.get(f.id);
        const doc = held ? A.loadIncremental(held.doc, f.data) : A.load(f.data);
        assert.ok(held || f.complete, 'a document new to this replica comes whole');
        assert.deepEqual(A.getHeads(doc).slice().sort(), f.heads.slice().sort(), 'feed heads are the heads after its chunks');
        if (held) Object.assign(held, { doc, serverHeads: f.heads });
        else this.docs.set(f.id, { doc, state: A.initSyncState(), pushed: true, dirty: false, serverHeads: f.heads });
      }
      errors.push(...res.errors);
      for (const e of res.errors) this.docs.get(e.id).dirty = false;
      this.cursor = { server: res.server, position: res.cursor, scope: res.scope };
      if (![...this.docs.values()].some((e) => e.dirty) && !res.more) return errors;
    }
    throw new Error('sync did not settle in 20 rounds');
  }
}

test('a JavaScript automerge peer pushes, pulls and edits narratives through the documented protocol', async () => {
  const a = new Peer(await signIn('canbo.a'));
  const b = new Peer(await signIn('canbo.b'));
  const id = randomUUID();

  // A registers a model and pushes it.
  a.change(id, 'tạo mô hình', (m) => assign(m, newModel(id, 'canbo.a', Date.now())));
  assert.deepEqual(await a.sync(), [], 'the server (and so the Rust reader) accepts the JS-written model');
  assert.ok(a.cursor.position > 0 && a.cursor.server, 'the response carries a cursor and a server id');

  // B, a fresh replica, receives it from the feed, whole, with the same content and history.
  assert.deepEqual(await b.sync(), []);
  const got = b.doc(id);
  assert.ok(got, 'the model reached the second replica through the feed');
  assert.equal(got.name.toString(), 'Hũ gạo tình thương bản Nà Lạ');
  assert.equal(got.situation, a.doc(id).situation);
  assert.deepEqual(A.getHeads(got), A.getHeads(a.doc(id)));
  const history = A.getHistory(got);
  assert.ok(history[0].change.time > 1e12, `change times are milliseconds (${history[0].change.time})`);

  // B edits a narrative (an insertion with diacritics) and pushes it with sync messages.
  b.change(id, 'sửa', (m) => {
    A.updateText(m, ['situation'], m.situation.replace('thiếu gạo', 'thiếu gạo ăn, nhất là người già neo đơn,'));
  });
  b.sent.length = 0;
  b.requests.length = 0;
  assert.deepEqual(await b.sync(), []);
  // One request carries the edit, in about the size of the edit.
  assert.equal(b.requests.length, 1, 'one round trip for one edit');
  assert.ok(Math.max(...b.sent) < 400, `the edit went as ${b.sent} bytes, not the whole document`);

  // A pulls: the feed brings only B's change, and A reads B's words.
  assert.deepEqual(await a.sync(), []);
  assert.equal(a.doc(id).situation, 'Nhiều hộ ở bản Nà Lạ thiếu gạo ăn, nhất là người già neo đơn, lúc giáp hạt. Trẻ em phải nghỉ học để đi làm thuê.');

  // The other way: A edits another narrative, B pulls it.
  a.change(id, 'sửa', (m) => { A.updateText(m, ['goals'], 'Mỗi tháng góp ít nhất 300 kg gạo; ưu tiên hộ nghèo, cận nghèo.'); });
  assert.deepEqual(await a.sync(), []);
  assert.deepEqual(await b.sync(), []);
  assert.equal(b.doc(id).goals, 'Mỗi tháng góp ít nhất 300 kg gạo; ưu tiên hộ nghèo, cận nghèo.');

  // Both offline at once, editing different sentences of one narrative: both edits survive,
  // wherever the accented letters fall (positions are not bytes on the wire).
  a.change(id, 'sửa', (m) => { A.updateText(m, ['situation'], m.situation.replace('Nhiều hộ', 'Hơn hai mươi hộ')); });
  b.change(id, 'sửa', (m) => { A.updateText(m, ['situation'], m.situation.replace('đi làm thuê', 'đi làm thuê ở thị trấn')); });
  assert.deepEqual(await a.sync(), []);
  assert.deepEqual(await b.sync(), []);
  assert.deepEqual(await a.sync(), []);
  const merged = 'Hơn hai mươi hộ ở bản Nà Lạ thiếu gạo ăn, nhất là người già neo đơn, lúc giáp hạt. Trẻ em phải nghỉ học để đi làm thuê ở thị trấn.';
  assert.equal(a.doc(id).situation, merged);
  assert.equal(b.doc(id).situation, merged);
  assert.deepEqual(A.getHeads(a.doc(id)), A.getHeads(b.doc(id)));
  assert.equal(a.doc(id).indicators[0].achieved, 12.5);

  // The worked example of ARCHITECTURE.md is what this encoder writes.
  const example = encodeRequest({
    protocol: PROTOCOL, server: null, cursor: 300, feed_budget: 65536, scope: 0,
    docs: [{ id: 'm1', message: A.generateSyncMessage(A.init(), A.initSyncState())[1], document: null }],
  });
  assert.equal(hex(example), '03 00 ac 02 01 80 80 04 00 01 02 6d 31 0a 42 00 00 01 00 00 00 02 02 84 00');
});

test('the server refuses a model written with the wrong automerge types, by document, with a reason', async () => {
  const a = new Peer(await signIn('canbo.a'));
  const cases = {
    // A JS string is Text in automerge 3; `name` must be a scalar string.
    'name as Text': (m) => { m.name = 'Tên mô hình'; },
    // A whole JS number is written as Int; `target` must be F64.
    'target as Int': (m) => { m.indicators[0].target = 40; },
    // `year` must be Uint, not Int.
    'year as Int': (m) => { m.year = 2026; },
    // A number wrapper inside an object literal becomes a map in automerge JS 3.5.
    'target inside a literal': (m) => {
      m.indicators = [{ id: S('i2'), name: S('Số buổi họp'), unit: S('buổi'), target: new A.Float64(4), achieved: new A.Float64(0) }];
    },
  };
  const ids = {};
  for (const [what, spoil] of Object.entries(cases)) {
    const id = randomUUID();
    ids[id] = what;
    a.change(id, 'tạo mô hình', (m) => { assign(m, newModel(id, 'canbo.a', Date.now())); spoil(m); });
  }
  const errors = await a.sync();
  assert.deepEqual(errors.map((e) => ids[e.id]).sort(), Object.keys(cases).sort());
  for (const e of errors) {
    assert.equal(e.code, 'malformed', `${ids[e.id]}: ${e.message}`);
    assert.match(e.message, /không đúng cấu trúc/, ids[e.id]);
  }
  // Nothing of them was stored: a fresh replica receives none.
  const b = new Peer(await signIn('canbo.b'));
  await b.sync();
  for (const id of Object.keys(ids)) assert.equal(b.doc(id), undefined, `${ids[id]} was not stored`);
});
