/** The console's page: plain HTML and CSS; its script is page-script.ts. No build step. */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sluice console</title>
<style>
  :root { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
  body { margin: 0; }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 1.5em; padding: .8em 1.2em; background: #1d2330; color: #fff; }
  header h1 { font-size: 1.2em; margin: 0; }
  #conn { font-size: .85em; padding: .1em .6em; border-radius: 1em; background: #666; }
  #conn.live { background: #2e7d32; } #conn.lost { background: #c62828; }
  #summary { display: flex; gap: 1.2em; margin: 0; }
  #summary div { display: flex; gap: .35em; } #summary dt { opacity: .7; } #summary dd { margin: 0; font-weight: 600; }
  main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1em; padding: 1em; }
  section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: .6em .9em; overflow: auto; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 1em; margin: .2em 0 .6em; }
  svg text { font: 11px system-ui, sans-serif; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: right; padding: .2em .5em; border-bottom: 1px solid #eef0f3; white-space: nowrap; }
  th:first-child, td:first-child { text-align: left; }
  #timeline { list-style: none; padding: 0; margin: 0; max-height: 22em; overflow: auto; }
  #timeline li { padding: .3em .4em; border-left: 4px solid #999; margin-bottom: .3em; background: #fafbfc; }
  #timeline li[data-type=failure] { border-color: #c62828; } #timeline li[data-type=restart] { border-color: #ef6c00; }
  #timeline li[data-type=recovered] { border-color: #2e7d32; }
  #timeline time { opacity: .6; margin-right: .5em; font-variant-numeric: tabular-nums; }
  .legend span { display: inline-block; margin-right: 1em; font-size: .85em; }
  .swatch { display: inline-block; width: .9em; height: .9em; vertical-align: -.1em; margin-right: .3em; border-radius: 2px; }
  #tap-out { max-height: 16em; overflow: auto; background: #1d2330; color: #cfe3ff; padding: .5em; font-size: 12px; }
  #message { min-height: 1.4em; } #message.error { color: #c62828; }
  .controls { display: flex; flex-wrap: wrap; gap: .5em; align-items: center; margin-bottom: .5em; }
</style>
</head>
<body>
<header>
  <h1 id="app">sluice</h1>
  <select id="apps" aria-label="application" hidden></select>
  <span id="conn">connecting…</span>
  <dl id="summary">
    <div><dt>window</dt><dd id="s-window">–</dd></div>
    <div><dt>committed</dt><dd id="s-committed">–</dd></div>
    <div><dt>commit lag</dt><dd id="s-lag">–</dd></div>
    <div><dt>failures</dt><dd id="s-failures">–</dd></div>
    <div><dt>recoveries</dt><dd id="s-recoveries">–</dd></div>
    <div><dt>uptime</dt><dd id="s-uptime">–</dd></div>
  </dl>
</header>
<main>
  <section class="wide">
    <h2>Physical DAG</h2>
    <svg id="dag" role="img" aria-label="physical DAG"></svg>
    <p class="legend">
      <span><i class="swatch" style="background:#dff0ff"></i>input</span>
      <span><i class="swatch" style="background:#fff;border:1px solid #999"></i>operator partition</span>
      <span><i class="swatch" style="background:#ece4ff"></i>unifier</span>
      <span><i class="swatch" style="background:#43a047"></i>edge flowing</span>
      <span><i class="swatch" style="background:#f9a825"></i>backpressure &gt; 5 %</span>
      <span><i class="swatch" style="background:#e53935"></i>backpressure &gt; 50 %</span>
      <span>dashed: fused (thread-local)</span>
      <span id="containers-legend"></span>
    </p>
  </section>
  <section class="wide">
    <h2>Operators</h2>
    <table id="operators"><thead><tr>
      <th>operator</th><th>partitions</th><th>in/s</th><th>out/s</th><th>last 5 min</th><th>tuples in</th><th>tuples out</th>
      <th>latency p50</th><th>p99</th><th>mailbox</th><th>blocked</th><th>checkpoints</th><th>last ckpt</th><th>restarts</th><th>own metrics</th>
    </tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Throughput (tuples/s out; sinks: in) — last 5 minutes</h2>
    <svg id="chart-rate" width="560" height="170"></svg>
    <h2>Window latency p99 (ms)</h2>
    <svg id="chart-latency" width="560" height="170"></svg>
    <h2>Windows and commits</h2>
    <svg id="chart-windows" width="560" height="120"></svg>
  </section>
  <section>
    <h2>Failures, restarts and recoveries</h2>
    <ol id="timeline"></ol>
  </section>
  <section class="wide">
    <h2>Controls</h2>
    <div class="controls">
      <label>failure drill on <select id="drill-actor"></select></label>
      <button id="drill" type="button">fail this actor</button>
    </div>
    <div class="controls">
      <label>tap <select id="tap-port"></select></label>
      <label>tuples/s <input id="tap-sample" type="number" min="1" max="1000" value="10" style="width:5em"></label>
      <button id="tap-open" type="button">open tap</button>
      <button id="tap-close" type="button" disabled>close tap</button>
    </div>
    <div id="message" role="status"></div>
    <pre id="tap-out"></pre>
  </section>
</main>
<script src="/console.js"></script>
</body>
</html>
`;
