/**
 * The console page's script, plain browser JavaScript (no build step, no library): it draws the
 * physical DAG in SVG (a column per depth), the operators' table with sparklines, three charts over the
 * last five minutes and the timeline, all from the WebSocket feed (live.ts). No template literals here:
 * this text is itself one.
 */
export const SCRIPT = String.raw`'use strict';
(function () {
  var NS = 'http://www.w3.org/2000/svg';
  var PALETTE = ['#1e88e5', '#43a047', '#8e24aa', '#f4511e', '#00897b', '#6d4c41', '#3949ab', '#c0ca33', '#d81b60', '#546e7a'];
  var state = { plan: null, snapshot: null, history: [], timeline: [], tap: null, collapsed: false };
  var ws = null;

  function $(id) { return document.getElementById(id); }
  function el(name, attrs, parent, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(n) {
    if (n === undefined || n === null || isNaN(n)) return '–';
    var a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return (n / 1e3).toFixed(1) + 'k';
    if (a >= 100 || n === Math.round(n)) return String(Math.round(n));
    return n.toFixed(1);
  }
  function ms(n) { return n >= 1000 ? (n / 1000).toFixed(2) + ' s' : fmt(n) + ' ms'; }
  function bytes(n) { return n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : n >= 1024 ? (n / 1024).toFixed(1) + ' KB' : n + ' B'; }
  function clock(t) { return new Date(t).toTimeString().slice(0, 8); }
  function say(text, error) { $('message').textContent = text || ''; $('message').className = error ? 'error' : ''; }

  // ---- the feed ----------------------------------------------------------------------------------
  function connect() {
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live' + location.search;
    ws = new WebSocket(url);
    ws.onopen = function () { $('conn').textContent = 'live'; $('conn').className = 'live'; };
    ws.onclose = function () {
      $('conn').textContent = 'disconnected'; $('conn').className = 'lost';
      state.tap = null; tapButtons();
      setTimeout(connect, 1000);
    };
    ws.onmessage = function (ev) {
      var m = JSON.parse(ev.data);
      if (m.type === 'hello') {
        state.plan = m.plan; state.snapshot = m.snapshot; state.history = m.history; state.timeline = m.timeline;
        applications(m.applications || []);
        setup(); render(); renderTimeline();
      } else if (m.type === 'metrics') {
        state.snapshot = m.snapshot; state.history.push(m.point);
        if (state.history.length > 300) state.history.shift();
        render();
      } else if (m.type === 'timeline') {
        state.timeline.push(m.entry); renderTimeline();
      } else if (m.type === 'tap') {
        var out = $('tap-out');
        var lines = m.tuples.join('\n') + (m.skipped ? '\n… ' + m.skipped + ' more not sampled' : '');
        out.textContent = (out.textContent + '\n' + lines).split('\n').slice(-200).join('\n').replace(/^\n/, '');
        out.scrollTop = out.scrollHeight;
      } else if (m.type === 'tap-opened') {
        state.tap = m.tap; tapButtons(); say('tap open on ' + m.port + ' (' + m.channels + ' channel' + (m.channels === 1 ? '' : 's') + ')');
      } else if (m.type === 'tap-closed') {
        state.tap = null; tapButtons(); say('tap closed');
      } else if (m.type === 'drilled') {
        say('failure drill sent to ' + m.actor);
      } else if (m.type === 'error') {
        say(m.message, true);
      }
    };
  }
  /** A cluster supervisor's console serves several applications: a choice among them (?app=NAME). */
  function applications(names) {
    var select = $('apps');
    select.hidden = names.length < 2;
    fill(select, names);
    select.value = state.plan.application;
  }
  $('apps').onchange = function () {
    var q = new URLSearchParams(location.search);
    q.set('app', $('apps').value);
    location.search = q.toString();
  };
  function send(c) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(c)); }

  // ---- controls -----------------------------------------------------------------------------------
  function setup() {
    var plan = state.plan;
    $('app').textContent = 'sluice · ' + plan.application;
    document.title = plan.application + ' · sluice console';
    state.collapsed = plan.actors.length > 48;
    fill($('drill-actor'), plan.actors.map(function (a) { return a.id; }));
    fill($('tap-port'), plan.ports);
    var containers = {};
    plan.actors.forEach(function (a) { if (a.container !== null) containers[a.container] = true; });
    var ids = Object.keys(containers);
    $('containers-legend').textContent = ids.length > 0 ? 'badge cN: container N (' + ids.length + ')' : '';
  }
  function fill(select, values) {
    var keep = select.value;
    select.textContent = '';
    values.forEach(function (v) { var o = document.createElement('option'); o.value = v; o.textContent = v; select.appendChild(o); });
    if (values.indexOf(keep) >= 0) select.value = keep;
  }
  function tapButtons() { $('tap-open').disabled = state.tap !== null; $('tap-close').disabled = state.tap === null; }
  $('drill').onclick = function () { send({ type: 'fail', actor: $('drill-actor').value }); };
  $('tap-open').onclick = function () {
    $('tap-out').textContent = '';
    send({ type: 'tap', port: $('tap-port').value, sample: Math.max(1, Math.min(1000, Number($('tap-sample').value) || 10)) });
  };
  $('tap-close').onclick = function () { if (state.tap !== null) send({ type: 'untap', tap: state.tap }); };

  // ---- rendering ----------------------------------------------------------------------------------
  function render() {
    var s = state.snapshot;
    if (!s || !state.plan) return;
    $('s-window').textContent = s.window;
    $('s-committed').textContent = s.committed;
    $('s-lag').textContent = s.commitLag;
    $('s-failures').textContent = s.failures;
    $('s-recoveries').textContent = s.recoveries.count + (s.recoveries.count ? ' (last ' + ms(s.recoveries.lastMs) + ')' : '');
    $('s-uptime').textContent = Math.round(s.uptimeMs / 1000) + ' s';
    renderHosts(); renderDag(); renderTable(); renderCharts();
  }

  /** On a cluster each actor names its node: the legend says which node hosts each container. */
  function hostOf(container) {
    var found = null;
    (state.snapshot ? state.snapshot.actors : []).forEach(function (a) { if (a.container === container && a.node) found = a.node; });
    return found;
  }
  function renderHosts() {
    var hosts = {};
    state.snapshot.actors.forEach(function (a) { if (a.node) hosts[a.container] = a.node; });
    var keys = Object.keys(hosts).sort(function (a, b) { return a - b; });
    if (keys.length === 0) return;
    $('containers-legend').textContent = 'badge cN: container N; ' +
      keys.map(function (c) { return 'c' + c + ' on ' + hosts[c]; }).join(', ');
  }

  /** Nodes: actors (or operators, for large plans); columns by depth along the channels. */
  function graph() {
    var plan = state.plan, s = state.snapshot;
    var key = function (id) { return state.collapsed ? groupOf[id] : id; };
    var groupOf = {};
    plan.actors.forEach(function (a) { groupOf[a.id] = a.group; });
    var nodes = [], byKey = {};
    plan.actors.forEach(function (a) {
      var k = key(a.id);
      if (!byKey[k]) { byKey[k] = { key: k, kind: a.kind, actors: [], depth: 0, container: a.container }; nodes.push(byKey[k]); }
      byKey[k].actors.push(a.id);
    });
    var edges = {}, list = [];
    var metricsOf = {};
    s.edges.forEach(function (e) { metricsOf[e.channel] = e; });
    plan.channels.forEach(function (c) {
      var from = key(c.from), to = key(c.to);
      var id = from + '->' + to;
      if (!edges[id]) { edges[id] = { id: id, from: from, to: to, rate: 0, full: 0, fused: c.fused, counted: true, streams: {} }; list.push(edges[id]); }
      var m = metricsOf[c.id] || { perSecond: 0, fullRatio: 0, counted: true };
      if (!m.counted) edges[id].counted = false;
      edges[id].rate += m.perSecond; edges[id].full = Math.max(edges[id].full, m.fullRatio); edges[id].streams[c.stream] = true;
    });
    for (var round = 0; round < nodes.length; round++) {
      var moved = false;
      list.forEach(function (e) { if (byKey[e.to].depth < byKey[e.from].depth + 1) { byKey[e.to].depth = byKey[e.from].depth + 1; moved = true; } });
      if (!moved) break;
    }
    return { nodes: nodes, byKey: byKey, edges: list };
  }

  function renderDag() {
    var svg = $('dag'), g = graph(), s = state.snapshot;
    var actorM = {}, opM = {};
    s.actors.forEach(function (a) { actorM[a.actorId] = a; });
    s.operators.forEach(function (o) { opM[o.operator] = o; });
    var recent = recentlyRebuilt();
    var rows = {}, W = 190, H = 58, GX = 90, GY = 16;
    g.nodes.forEach(function (n) { rows[n.depth] = (rows[n.depth] || 0); n.row = rows[n.depth]++; });
    var maxRows = 0, maxDepth = 0;
    for (var d in rows) { maxRows = Math.max(maxRows, rows[d]); maxDepth = Math.max(maxDepth, Number(d)); }
    g.nodes.forEach(function (n) {
      var offset = (maxRows - rows[n.depth]) * (H + GY) / 2;
      n.x = 10 + n.depth * (W + GX); n.y = 10 + offset + n.row * (H + GY);
    });
    svg.setAttribute('width', 20 + (maxDepth + 1) * (W + GX) - GX);
    svg.setAttribute('height', 20 + maxRows * (H + GY));
    svg.textContent = '';
    g.edges.forEach(function (e) {
      var a = g.byKey[e.from], b = g.byKey[e.to];
      var x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
      var color = e.full > 0.5 ? '#e53935' : e.full > 0.05 ? '#f9a825' : e.rate > 0 || !e.counted ? '#43a047' : '#9aa3ae';
      var p = el('path', { d: 'M' + x1 + ',' + y1 + ' C' + mx + ',' + y1 + ' ' + mx + ',' + y2 + ' ' + x2 + ',' + y2,
        fill: 'none', stroke: color, 'stroke-width': 1.2 + Math.log10(1 + e.rate) / 1.5, 'data-edge': e.id,
        'data-rate': Math.round(e.rate), 'data-backpressure': e.full.toFixed(2) }, svg);
      if (e.fused) p.setAttribute('stroke-dasharray', '5 4');
      el('title', {}, p, Object.keys(e.streams).join(', ') + ': ' + fmt(e.rate) + ' tuples/s, mailbox full ' + Math.round(e.full * 100) + ' % of the time');
      el('text', { x: mx, y: (y1 + y2) / 2 - 4, 'text-anchor': 'middle', fill: '#555' }, svg, !e.counted ? 'fused' : fmt(e.rate) + '/s' + (e.full > 0.05 ? ' · bp ' + Math.round(e.full * 100) + '%' : ''));
    });
    g.nodes.forEach(function (n) {
      var m = state.collapsed ? opM[n.key] : actorM[n.key];
      var grp = el('g', { transform: 'translate(' + n.x + ',' + n.y + ')', 'data-node': n.key, 'data-kind': n.kind }, svg);
      var fill = n.kind === 'input' ? '#dff0ff' : n.kind === 'unifier' ? '#ece4ff' : '#ffffff';
      var rebuilt = n.actors.some(function (id) { return recent[id]; });
      el('rect', { width: W, height: H, rx: 6, fill: fill, stroke: rebuilt ? '#ef6c00' : '#8a94a3', 'stroke-width': rebuilt ? 3 : 1 }, grp);
      el('text', { x: 8, y: 16, 'font-weight': 'bold' }, grp, n.key + (state.collapsed && n.actors.length > 1 ? ' ×' + n.actors.length : ''));
      if (m) {
        var rate = n.kind === 'input' ? m.outPerSecond : m.inPerSecond;
        // Fed only by fused streams (not counted by default): no input rate to show.
        var fusedIn = n.kind !== 'input' && g.edges.some(function (e) { return e.to === n.key; }) &&
          g.edges.every(function (e) { return e.to !== n.key || !e.counted; });
        el('text', { x: 8, y: 32, 'data-rate': Math.round(rate) }, grp, fusedIn ? 'in: fused (not counted)' : (n.kind === 'input' ? 'out ' : 'in ') + fmt(rate) + '/s · total ' + fmt(n.kind === 'input' ? m.tuplesOut : m.tuplesIn));
        el('text', { x: 8, y: 48 }, grp, 'p99 ' + ms(m.latency.p99Ms) + ' · mailbox ' + m.mailbox + (m.restarts ? ' · ↻' + m.restarts : ''));
      }
      if (n.container !== null && n.container !== undefined && !state.collapsed) {
        var host = hostOf(n.container);
        var badge = el('rect', { x: W - 30, y: 4, width: 26, height: 14, rx: 3, fill: PALETTE[n.container % PALETTE.length], 'data-host': host || '' }, grp);
        el('title', {}, badge, 'container ' + n.container + (host ? ' on node ' + host : ''));
        el('text', { x: W - 17, y: 15, 'text-anchor': 'middle', fill: '#fff' }, grp, 'c' + n.container);
      }
    });
  }

  /** Actors a recovery rebuilt in the last 10 seconds (outlined on the DAG). */
  function recentlyRebuilt() {
    var out = {}, now = Date.now();
    state.timeline.forEach(function (t) {
      if (t.type === 'recovered' && now - t.atMs < 10000) t.actors.forEach(function (a) { out[a] = true; });
    });
    return out;
  }

  function renderTable() {
    var body = document.querySelector('#operators tbody');
    body.textContent = '';
    state.snapshot.operators.forEach(function (o) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-operator', o.operator);
      var sink = o.tuplesOut === 0;
      var custom = Object.keys(o.custom).map(function (k) { return k + ' ' + fmt(o.custom[k].value); }).join(', ');
      var cells = [o.operator, o.actors.length, fmt(o.inPerSecond), fmt(o.outPerSecond), null, fmt(o.tuplesIn), fmt(o.tuplesOut),
        ms(o.latency.p50Ms), ms(o.latency.p99Ms), o.mailbox, ms(o.blockedMs), o.checkpoints.count,
        o.checkpoints.count ? ms(o.checkpoints.lastMs) + (o.checkpoints.lastBytes ? ', ' + bytes(o.checkpoints.lastBytes) : '') : '–',
        o.restarts, custom || '–'];
      cells.forEach(function (c, i) {
        var td = document.createElement('td');
        if (i === 4) td.appendChild(sparkline(o.operator, sink ? 'inPerSecond' : 'outPerSecond'));
        else td.textContent = c;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function sparkline(op, field) {
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('width', 120); svg.setAttribute('height', 22);
    var values = state.history.map(function (p) { return p.operators[op] ? p.operators[op][field] : 0; });
    line(svg, values, Math.max.apply(null, values.concat([1])), 120, 22, '#1e88e5', 300);
    return svg;
  }

  function line(svg, values, max, w, h, color, slots) {
    if (values.length < 2) return;
    var pts = values.map(function (v, i) {
      var x = w - (values.length - 1 - i) * (w / (slots - 1));
      return x.toFixed(1) + ',' + (h - 2 - (v / max) * (h - 4)).toFixed(1);
    });
    el('polyline', { points: pts.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5 }, svg);
  }

  function chart(id, series, unit) {
    var svg = $(id), w = Number(svg.getAttribute('width')), h = Number(svg.getAttribute('height'));
    svg.textContent = '';
    var max = 1;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v > max) max = v; }); });
    el('line', { x1: 0, y1: h - 16, x2: w, y2: h - 16, stroke: '#ccd' }, svg);
    el('text', { x: 2, y: 10, fill: '#666' }, svg, fmt(max) + unit);
    el('text', { x: 2, y: h - 4, fill: '#666' }, svg, '−5 min');
    el('text', { x: w - 2, y: h - 4, fill: '#666', 'text-anchor': 'end' }, svg, 'now');
    var g = el('g', {}, svg);
    series.forEach(function (s, i) {
      line(g, s.values, max, w, h - 16, PALETTE[i % PALETTE.length], 300);
      el('text', { x: w - 4, y: 12 + i * 12, fill: PALETTE[i % PALETTE.length], 'text-anchor': 'end' }, svg, s.name);
    });
  }

  function renderCharts() {
    var h = state.history, ops = state.snapshot.operators;
    chart('chart-rate', ops.map(function (o) {
      var f = o.tuplesOut === 0 ? 'inPerSecond' : 'outPerSecond';
      return { name: o.operator, values: h.map(function (p) { return p.operators[o.operator] ? p.operators[o.operator][f] : 0; }) };
    }), '/s');
    chart('chart-latency', ops.map(function (o) {
      return { name: o.operator, values: h.map(function (p) { return p.operators[o.operator] ? p.operators[o.operator].p99Ms : 0; }) };
    }), ' ms');
    chart('chart-windows', [
      { name: 'window', values: h.map(function (p) { return p.window; }) },
      { name: 'committed', values: h.map(function (p) { return p.committed; }) },
    ], '');
  }

  function describe(t) {
    var list = function (a) { return a.length > 6 ? a.slice(0, 6).join(', ') + ' and ' + (a.length - 6) + ' more' : a.join(', '); };
    if (t.type === 'failure') return '✗ ' + t.actorId + ' (' + t.operator + ') failed in window ' + t.window + ' during ' + t.phase + ': ' + t.message;
    if (t.type === 'restart') return '↻ restart #' + t.attempt + ': rebuilding ' + list(t.actors) + ' from the checkpoint of window ' + t.window + (t.delayMs ? ' after ' + t.delayMs + ' ms' : '');
    if (t.type === 'recovered') return '✓ recovered: ' + t.actors.length + ' actor' + (t.actors.length === 1 ? '' : 's') + ' rebuilt (' + list(t.actors) + ') from window ' + t.window + ', ' + t.replayed + ' window' + (t.replayed === 1 ? '' : 's') + ' replayed, in ' + ms(t.ms);
    if (t.type === 'started') {
      var r = t.restoredWindow || 0;
      var replay = t.firstWindow > r + 1 ? 'windows ' + (r + 1) + '–' + (t.firstWindow - 1) + ' replay from the window log' : '';
      var from = r ? 'restored from the checkpoint of window ' + r + (replay ? '; ' + replay : '') : replay ? 'no checkpoint yet: ' + replay : 'fresh store';
      return '▶ started at window ' + t.firstWindow + ' (' + from + ')';
    }
    if (t.type === 'stopped') return '■ stopped after window ' + t.window + ', committed ' + t.committed + ' (' + t.reason + ')';
    return t.type;
  }

  function renderTimeline() {
    var ol = $('timeline');
    ol.textContent = '';
    state.timeline.slice().reverse().forEach(function (t) {
      var li = document.createElement('li');
      li.setAttribute('data-type', t.type);
      var time = document.createElement('time');
      time.textContent = clock(t.atMs);
      li.appendChild(time);
      li.appendChild(document.createTextNode(describe(t)));
      ol.appendChild(li);
    });
  }

  connect();
})();
`;
