// FormSync live view: frames from the hub's live socket (docs/api.md#live-view) painted on canvases,
// beside Streamlit's rerun loop. Each canvas carries data-camera-id and data-capture-ns (the painted
// frame's capture time, ns, hub clock), updated in the animation frame that paints it; every paint
// is also logged in window.formsyncPaints for benchmarks.
"use strict";

const PAINT_LOG = 4000;
const paints = (window.formsyncPaints = []);
const grid = document.getElementById("grid");
const statusLine = document.getElementById("status");
const decoder = new TextDecoder();

let args = null;
let ws = null;
let watching = null;     // JSON of what the open socket was asked to show
let refusedToken = null; // a token the hub refused: wait for the page to mint another
let tokenAsks = 0;
let retryMs = 250;
let retryTimer = null;
const tiles = new Map(); // tile key -> {canvas, ctx, caption, camera, shown: [paint ms]}
const results = new Map(); // camera -> recent analysis results, oldest first

function post(type, data) {
  window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data || {}), "*");
}

function nowMs() {
  return performance.timeOrigin + performance.now();
}

function setStatus(text, bad) {
  statusLine.textContent = text;
  statusLine.className = bad ? "status bad" : "status";
  statusLine.style.display = text ? "" : "none";
  resize();
}

let lastHeight = -1;
function resize() {
  const h = Math.ceil(document.documentElement.getBoundingClientRect().height);
  if (h !== lastHeight) {
    lastHeight = h;
    post("streamlit:setFrameHeight", { height: h });
  }
}
new ResizeObserver(resize).observe(document.body);

function tile(key, camera, label) {
  let t = tiles.get(key);
  if (t) return t;
  const fig = document.createElement("figure");
  const canvas = document.createElement("canvas");
  canvas.dataset.cameraId = camera;
  canvas.dataset.captureNs = "";
  canvas.width = 640;
  canvas.height = 360;
  const caption = document.createElement("figcaption");
  caption.innerHTML = '<span class="title"></span> <span class="info">waiting for the first frame…</span>';
  caption.querySelector(".title").textContent = label;
  fig.append(canvas, caption);
  grid.append(fig);
  t = { fig, canvas, ctx: canvas.getContext("2d"), caption: caption.querySelector(".info"), camera,
        shown: [] };
  tiles.set(key, t);
  return t;
}

function layout() {
  grid.dataset.view = args.sync ? "sync" : args.overlay ? "overlay" : "cameras";
  // Tiles in the order of args.cameras; a set's cameras come from the hub (the online ones).
  const prefix = args.sync ? "sync:" : "cam:";
  const want = new Set((args.cameras || []).map((c) => prefix + c));
  for (const [key, t] of tiles) {
    if (!want.has(key)) { t.fig.remove(); tiles.delete(key); }
  }
  for (const c of args.cameras || []) tile(prefix + c, c, args.sync ? c + " (synchronised)" : c);
  const n = args.sync ? Math.max(2, (args.cameras || []).length) : Math.max(1, (args.cameras || []).length);
  grid.style.gridTemplateColumns = `repeat(${Math.min(args.columns || 3, n)}, minmax(0, 1fr))`;
}

function watchMessage(withToken) {
  const m = { type: withToken ? "hello" : "watch", cameras: args.sync ? [] : args.cameras || [],
              sync: !!args.sync, analysis: !!args.overlay };
  if (withToken) m.token = args.token;
  return m;
}

function connect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (!args || !args.token || args.token === refusedToken) return;
  const socket = new WebSocket(args.ws_url);
  socket.binaryType = "arraybuffer";
  ws = socket;
  socket.onopen = () => {
    socket.send(JSON.stringify(watchMessage(true)));
    watching = JSON.stringify(watchMessage(false));
  };
  socket.onmessage = (ev) => {
    if (typeof ev.data === "string") onText(JSON.parse(ev.data));
    else onFrames(ev.data);
  };
  socket.onclose = (ev) => {
    if (ws !== socket) return;
    ws = null;
    if (ev.code === 4401) {
      // Expired or from a hub that restarted: ask the page for a new token, then reconnect.
      refusedToken = socket.usedToken;
      post("streamlit:setComponentValue", { value: { token_request: ++tokenAsks }, dataType: "json" });
      setStatus("renewing access…", false);
      return;
    }
    setStatus("hub unreachable, reconnecting…", true);
    retryTimer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 5000);
  };
  socket.usedToken = args.token;
}

function onText(m) {
  if (m.type === "ready") {
    retryMs = 250;
    setStatus("", false);
  } else if (m.type === "analysis") {
    const list = results.get(m.camera_id) || [];
    list.push(m.result);
    while (list.length > 30) list.shift();
    results.set(m.camera_id, list);
  } else if (m.type === "error") {
    setStatus(m.error && m.error.message ? m.error.message : "refused by the hub", true);
  }
}

function onFrames(buf) {
  const n = new DataView(buf).getUint32(0);
  const text = decoder.decode(new Uint8Array(buf, 4, n));
  const head = JSON.parse(text);
  // Capture times are ns beyond 2^53: keep their exact digits from the text for the attributes.
  const captures = [...text.matchAll(/"capture_time_ns":(\d+)/g)].map((x) => x[1]);
  let at = 4 + n;
  if (head.kind === "frame") {
    const blob = new Blob([new Uint8Array(buf, at)], { type: "image/jpeg" });
    paint([{ key: "cam:" + head.camera_id, camera: head.camera_id, seq: head.seq, capture: captures[0], blob }], null);
    return;
  }
  const items = head.frames.map((f, i) => {
    const blob = new Blob([new Uint8Array(buf, at, f.bytes)], { type: "image/jpeg" });
    at += f.bytes;
    return { key: "sync:" + f.camera_id, camera: f.camera_id, seq: f.seq, capture: captures[i], blob };
  });
  paint(items, head.spread_ms);
}

// One decode at a time per stream (a camera, or the sets); what arrives meanwhile waits in a
// size-1 slot, newer replacing older, so a busy browser skips frames instead of falling behind.
const streams = new Map(); // stream key -> {busy, next}

function paint(items, spreadMs) {
  const key = spreadMs === null ? items[0].key : "sync";
  const s = streams.get(key) || { busy: false, next: null };
  streams.set(key, s);
  s.next = { items, spreadMs };
  if (!s.busy) decodeNext(s);
}

function decodeNext(s) {
  const job = s.next;
  s.next = null;
  if (!job) { s.busy = false; return; }
  s.busy = true;
  Promise.all(job.items.map((it) => createImageBitmap(it.blob))).then((bitmaps) => {
    // The whole set in one animation frame, so synchronised cameras change together.
    requestAnimationFrame(() => {
      const painted = nowMs();
      job.items.forEach((it, i) => draw(tiles.get(it.key), it, bitmaps[i], painted, job.spreadMs));
      decodeNext(s);
    });
  }, () => decodeNext(s));
}

function draw(t, it, bitmap, painted, spreadMs) {
  if (!t) { bitmap.close(); return; }
  const c = t.canvas;
  if (c.width !== bitmap.width || c.height !== bitmap.height) {
    c.width = bitmap.width;
    c.height = bitmap.height;
    if (args.max_height) c.style.maxWidth = `${Math.round(args.max_height * bitmap.width / bitmap.height)}px`;
  }
  t.ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  let overlay = null;
  if (args.overlay) overlay = drawOverlay(t, it);
  c.dataset.captureNs = it.capture;
  c.dataset.seq = String(it.seq);
  // The seq of the result whose skeleton is drawn on this frame ("" without one).
  c.dataset.overlaySeq = overlay && overlay.landmarks ? String(overlay.seq) : "";
  const latency = painted - Number(it.capture) / 1e6;
  paints.push({ camera: it.camera, key: it.key, seq: it.seq, capture_ns: it.capture, paint_ms: painted,
                latency_ms: latency, overlay_seq: overlay ? overlay.seq : null });
  if (paints.length > PAINT_LOG) paints.splice(0, paints.length - PAINT_LOG);
  t.shown.push(painted);
  while (t.shown.length && t.shown[0] < painted - 2000) t.shown.shift();
  const fps = t.shown.length > 1 ? (t.shown.length - 1) / ((painted - t.shown[0]) / 1000) : 0;
  let info = `seq ${it.seq} · ${fps.toFixed(1)} fps shown · ${Math.max(0, latency).toFixed(0)} ms after capture`;
  if (spreadMs !== null) info += ` · set spread ${spreadMs.toFixed(1)} ms`;
  if (overlay && overlay.rep) info += ` · pose of seq ${overlay.seq}`;
  t.caption.textContent = info;
}

function nearestResult(camera, captureNs) {
  // The result of the displayed frame when there is one, else the nearest in capture time within
  // the page's tolerance: analysis runs behind the display, and a pose from further away would
  // sit visibly off the body.
  const list = results.get(camera);
  if (!list) return null;
  const at = Number(captureNs);
  let best = null, gap = Infinity;
  for (const r of list) {
    const d = Math.abs(r.capture_time_ns - at);
    if (d < gap) { best = r; gap = d; }
  }
  return best && gap <= (args.overlay_tolerance_ms || 250) * 1e6 ? best : null;
}

function drawOverlay(t, it) {
  const r = nearestResult(it.camera, it.capture);
  if (!r) return null;
  const ctx = t.ctx, w = t.canvas.width, h = t.canvas.height;
  const lm = r.landmarks;
  const thick = Math.max(2, Math.round(w / 200));
  const minVis = args.min_visibility || 0.5;
  const left = new Set(args.left || []);
  if (lm) {
    ctx.lineWidth = thick;
    ctx.lineCap = "round";
    for (const [a, b] of args.connections || []) {
      if (!lm[a] || !lm[b] || lm[a][3] < minVis || lm[b][3] < minVis) continue;
      ctx.strokeStyle = left.has(a) && left.has(b) ? "#4fc3f7" : !left.has(a) && !left.has(b) ? "#ffb74d" : "#e0e0e0";
      ctx.beginPath();
      ctx.moveTo(lm[a][0] * w, lm[a][1] * h);
      ctx.lineTo(lm[b][0] * w, lm[b][1] * h);
      ctx.stroke();
    }
    ctx.fillStyle = "#ffffff";
    const joints = new Set((args.connections || []).flat());
    for (const i of joints) {
      if (!lm[i] || lm[i][3] < minVis) continue;
      ctx.beginPath();
      ctx.arc(lm[i][0] * w, lm[i][1] * h, thick + 1, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  const g = r.gaze;
  if (g && g.face_found && g.direction && g.nose && g.face_box) {
    // As streamlit_app/gaze/view.py's arrow_endpoints: the gaze direction projected on the image.
    const yaw = g.direction.yaw * Math.PI / 180, pitch = g.direction.pitch * Math.PI / 180;
    const length = (args.arrow_face_widths || 1.5) * (g.face_box[2] - g.face_box[0]) * w;
    const x0 = g.nose[0] * w, y0 = g.nose[1] * h;
    ctx.strokeStyle = g.on_target ? "#66bb6a" : "#ffa726";
    ctx.lineWidth = 2 * thick;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x0 + Math.sin(yaw) * Math.cos(pitch) * length, y0 - Math.sin(pitch) * length);
    ctx.stroke();
  }
  const lines = [];
  if (r.rep) lines.push(`${r.rep.phase} · rep ${r.rep.count}`);
  // A fault's moments are runs of capture times: name the fault while the shown frame is in one.
  const at = BigInt(it.capture);
  for (const f of r.faults || []) {
    const now = (f.moments || []).some((m) => BigInt(m.start_time_ns) <= at && at <= BigInt(m.end_time_ns));
    lines.push(`${now ? "⚠ now: " : "⚠ "}${f.code.replace(/_/g, " ")}`);
    if (lines.length >= 4) break;
  }
  if (lines.length) {
    const size = Math.max(14, Math.round(h / 24));
    ctx.font = `600 ${size}px sans-serif`;
    ctx.textBaseline = "top";
    lines.forEach((line, i) => {
      const y = 8 + i * (size + 6);
      const width = ctx.measureText(line).width;
      ctx.fillStyle = "rgba(0,0,0,0.55)";
      ctx.fillRect(6, y - 3, width + 12, size + 6);
      ctx.fillStyle = i === 0 ? "#ffffff" : "#ffcc80";
      ctx.fillText(line, 12, y);
    });
  }
  return r;
}

window.addEventListener("message", (ev) => {
  if (!ev.data || ev.data.type !== "streamlit:render") return;
  args = ev.data.args;
  layout();
  if (args.token !== refusedToken && !ws && !retryTimer) connect();
  else if (ws && ws.readyState === 1) {
    const want = JSON.stringify(watchMessage(false));
    if (want !== watching) { ws.send(want); watching = want; }
  }
  resize();
});

post("streamlit:componentReady", { apiVersion: 1 });
