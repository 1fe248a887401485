// The sign-in form of a new device, before the app's wasm arrives.
//
// A cadre opening danvan for the first time on a 2G phone would otherwise wait for the whole
// app (hundreds of KB) before typing a password. With no account on this device, this script
// (a few KB, loaded with the page) turns the static shell into the sign-in form and signs in by
// itself with the same `POST /api/session` the app uses, storing the session exactly as the app
// does (`local::account::Account`: localStorage "danvan.account"). When the wasm arrives it
// takes over: it waits while a sign-in sent from here is under way, then carries on with what was
// typed (`client::app::start`). Plain script, no framework: it must cost nothing to load.
//
// It also speaks the chosen language first: with English chosen (localStorage "danvan.lang", or a
// browser set to English on the first start, as `local::settings::load_lang`), it fetches the
// English catalogue, translates the static shell, and leaves the fetch's promise in
// `window.danvanCatalogue` for the wasm, which would otherwise fetch the same file again.
(function () {
  'use strict';
  var ACCOUNT = 'danvan.account';
  var body = document.body;
  // A device with an account shows its list as soon as the app runs: begin fetching and compiling
  // the app's wasm now, while the page is still being laid out and painted, rather than when
  // Trunk's loader runs after it (~100 ms later at 4× CPU). The loader takes this module
  // (`window.danvanWasm`, see .ci/trunk-post-build); if compiling fails (the fetch was cut, a
  // bad answer), it is handed a fresh fetch of the file, which it compiles as it always did.
  var wasmFile = document.currentScript && document.currentScript.getAttribute('data-wasm');
  try {
    if (wasmFile && localStorage.getItem(ACCOUNT) && WebAssembly.compileStreaming) {
      window.danvanWasm = WebAssembly.compileStreaming(fetch(wasmFile)).catch(function () { return fetch(wasmFile); });
    }
  } catch (e) { /* no storage: the loader fetches the wasm itself */ }
  var main = document.querySelector('#app main');
  var lang = null;
  try { lang = localStorage.getItem('danvan.lang'); } catch (e) { /* the app says why */ }
  if (lang !== 'vi' && lang !== 'en') lang = /^en/i.test(navigator.language || '') ? 'en' : 'vi';
  document.documentElement.lang = lang;
  var english = null;
  // What the shell painted from the app's own copy (already in the chosen language).
  var kept = [];
  firstScreen();
  function tr(text) { return (english && english[text]) || text; }
  function parse(text) {
    var entries = {};
    text.split('\n').forEach(function (line) {
      var tab = line.indexOf('\t');
      if (line.charAt(0) === '#' || tab < 0) return;
      var unescape = function (s) {
        return s.replace(/\\(.)/g, function (_, c) { return c === 'n' ? '\n' : c === 't' ? '\t' : c; });
      };
      entries[unescape(line.slice(0, tab))] = unescape(line.slice(tab + 1).replace(/\r$/, ''));
    });
    return entries;
  }
  function translateShell() {
    if (body.dataset.ready) return; // the app is up and speaks for itself
    document.title = tr(document.title);
    var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      if (kept.some(function (k) { return k.contains(node); })) continue;
      var text = node.nodeValue.trim();
      if (text) node.nodeValue = node.nodeValue.replace(text, tr(text));
    }
  }
  // When the app's wasm may start (Trunk's loader awaits `window.danvanStart`: see
  // .ci/trunk-post-build). On a device with an account, at once. On a new device, only once the
  // sign-in form below has been painted: the wasm is not needed to sign in, and on a 2G link its
  // download would otherwise share the line with this page's own files and delay the form.
  var startApp;
  window.danvanStart = new Promise(function (resolve) { startApp = resolve; });
  function formThenApp() {
    try {
      signInForm();
    } finally {
      if (body.dataset.shell !== 'sign-in' || document.visibilityState === 'hidden') startApp();
      else requestAnimationFrame(function () { setTimeout(startApp, 0); });
    }
  }
  if (lang === 'en') {
    window.danvanCatalogue = fetch('/en.tsv').then(function (response) {
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return response.text();
    });
    window.danvanCatalogue.then(function (text) {
      english = parse(text);
      translateShell();
      formThenApp();
    }, formThenApp);
  } else {
    formThenApp();
  }

  // A returning cadre's list, as the app last drew it on this device for this user and language
  // (src/client/local/first_screen.rs): painted now rather than ~0.8 s later at 4× CPU, when the
  // app has started and read its models. Inert and busy — nothing in it can be clicked or typed
  // into, so nothing typed is lost — until the app, drawing the same, replaces it.
  function firstScreen() {
    if (!main || location.pathname !== '/') return;
    try {
      var account = JSON.parse(localStorage.getItem(ACCOUNT) || 'null');
      var copy = JSON.parse(localStorage.getItem('danvan.first-screen') || 'null');
      if (!account || !account.profile || !copy || typeof copy.main !== 'string') return;
      if (copy.owner !== account.profile.username || copy.lang !== lang) return;
      var nav = document.querySelector('#app header nav');
      if (nav && typeof copy.nav === 'string' && copy.nav) {
        nav.innerHTML = copy.nav;
        nav.inert = true;
        kept.push(nav);
      }
      main.innerHTML = copy.main;
      main.inert = true;
      main.setAttribute('aria-busy', 'true');
      kept.push(main);
      body.dataset.shell = 'first-screen';
    } catch (e) { /* no storage, or a damaged copy: the skeleton stays */ }
  }

  function signInForm() {
  if (body.dataset.ready) return; // the wasm arrived first and shows its own form
  if (!main || location.pathname.indexOf('/moi') === 0) return;
  try {
    if (localStorage.getItem(ACCOUNT)) return;
  } catch (e) {
    return; // no storage: the app says why when it starts
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }
  function field(id, label, attrs) {
    attrs.id = id;
    return el('div', { class: 'field' }, [el('label', { for: id }, [label]), el('input', attrs)]);
  }

  var error = el('p', { class: 'error', role: 'alert', hidden: '' });
  var button = el('button', { type: 'submit', class: 'button primary' }, [tr('Đăng nhập')]);
  var form = el('form', { class: 'model-form narrow', novalidate: '' }, [
    field('username', tr('Tên đăng nhập'), { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' }),
    field('password', tr('Mật khẩu'), { type: 'password', autocomplete: 'current-password' }),
    error,
    el('div', { class: 'actions' }, [button]),
  ]);
  var page = el('section', { class: 'page sign-in-page shell-sign-in' }, [
    el('h1', {}, [tr('Đăng nhập')]),
    el('p', { class: 'hint' }, [tr('Đăng nhập một lần khi có mạng; sau đó ứng dụng dùng được cả khi không có mạng.')]),
    form,
    el('p', { class: 'hint' }, [tr('Chưa có tài khoản? Quản trị viên của đơn vị gửi cho bạn một liên kết mời (hoặc mã QR) để đặt mật khẩu.')]),
  ]);
  main.replaceChildren(page);
  // The shell's menu is for signed-in users; its badge says what the app's will say, so the header
  // keeps its height when the app takes over (nothing below it moves).
  var nav = document.querySelector('#app header nav');
  if (nav) nav.remove();
  var badge = document.querySelector('#app header .sync-status');
  if (badge) {
    badge.dataset.state = 'signed-out';
    var label = badge.querySelector('.label');
    if (label) label.textContent = tr('Chưa đăng nhập — chưa đồng bộ');
  }
  body.dataset.shell = 'sign-in';

  function say(text) {
    error.textContent = text;
    if (text) error.removeAttribute('hidden'); else error.setAttribute('hidden', '');
  }
  function idle() {
    button.disabled = false;
    button.textContent = tr('Đăng nhập');
    body.dataset.shell = 'sign-in';
    window.dispatchEvent(new Event('danvan-shell-idle'));
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var username = form.username.value.trim().toLowerCase();
    var password = form.password.value;
    if (!username) return say(tr('Hãy nhập tên đăng nhập.'));
    if (!password) return say(tr('Hãy nhập mật khẩu.'));
    say('');
    button.disabled = true;
    button.textContent = tr('Đang đăng nhập…');
    body.dataset.shell = 'signing-in';
    fetch('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: username, password: password }),
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          if (!response.ok) {
            throw new Error(tr(answer.error) || (tr('Máy chủ không nhận đăng nhập (mã {}).').replace('{}', response.status)));
          }
          return answer;
        });
      })
      .then(function (signedIn) {
        localStorage.setItem(ACCOUNT, JSON.stringify({
          token: signedIn.token, expires_at: signedIn.expires_at, profile: signedIn.profile, ended: null,
        }));
        form.password.value = '';
        main.replaceChildren(el('section', { class: 'page shell', 'aria-busy': 'true' }, [
          el('h1', {}, [tr('Mô hình “Dân vận khéo”')]),
          el('p', { class: 'loading' }, [tr('Đã đăng nhập. Đang mở sổ mô hình…')]),
        ]));
        body.dataset.shell = 'signed-in';
        window.dispatchEvent(new Event('danvan-signed-in'));
      })
      .catch(function (e) {
        say(e instanceof TypeError
          ? tr('Không kết nối được máy chủ. Hãy kiểm tra mạng rồi thử lại.')
          : e.message);
        idle();
      });
  });
  }
})();
