// A fake Nexon Open API for tests and local development, bound to 127.0.0.1.
//
// Serves the two endpoints the Worker calls, with the real API's shapes:
//   GET /maplestory/v1/id?character_name=NAME              -> 200 {"ocid":"…"}
//   GET /maplestory/v1/character/item-equipment?ocid=OCID  -> 200 (a fixture from ../shared/fixtures/nexon/)
// A request without the `x-nxopen-api-key` header gets 400 OPENAPI00005, as the real API answers.
// Unknown characters get what the real API answers: 400 {"error":{"name":"OPENAPI00004",…}} for an
// unknown name, 400 OPENAPI00003 for an unknown ocid (`unknownStatus: 404` switches both to 404).
//
// Known characters: `에반` (evan_equip.json), `메카닉` (mechanic_equip.json), and every synthetic name of
// lower-case Latin letters followed by digits (`load17`, `swr3`), whose equipment alternates between the
// two fixtures. Anything else is unknown (`nobody`, `ghost`).
//
// Control endpoints (JSON), for tests:
//   POST /__control/faults   {path?, latencyMs?, errorRate?, failNext?, errorStatus?, throttle?: {retryAfterS},
//                             hang?, unknownStatus?}  -- `path` is "id", "equipment" or "*" (default "*");
//                             `failNext: n` fails the next n calls (then answers normally); an empty object
//                             for a path clears its faults
//   POST /__control/revise   {ocid, fixture?} -- the equipment of this ocid changes (its `date` field), e.g. to
//                             see a refresh; with `fixture` ("evan_equip.json" or "mechanic_equip.json") the
//                             ocid also re-gears to that fixture's items (its valuation changes)
//   GET  /__control/calls    -> {"id": n, "equipment": n, "total": n, "byKey": {"id:NAME": n, …}}
//   POST /__control/reset    clears faults, revisions and call counts
//
// Run standalone for local dev:  node tests/fake-upstream/server.mjs [--port 9100]
// then:  scripts/dev.sh --var UPSTREAM_BASE_URL:http://127.0.0.1:9100
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(HERE, '..', '..', '..', 'shared', 'fixtures', 'nexon');

const ID_PATH = '/maplestory/v1/id';
const EQUIPMENT_PATH = '/maplestory/v1/character/item-equipment';
const PATH_KIND = { [ID_PATH]: 'id', [EQUIPMENT_PATH]: 'equipment' };

/** The ocid the fake gives a name: 32 hex characters, like Nexon's. */
export function ocidOf(name) {
  return createHash('sha256').update(`fake-ocid:${name}`).digest('hex').slice(0, 32);
}

const SYNTHETIC = /^[a-z]+[0-9]+$/;
/** Which fixture a known name's equipment is, or null for an unknown name. */
export function fixtureOf(name) {
  if (name === '에반') return 'evan_equip.json';
  if (name === '메카닉') return 'mechanic_equip.json';
  if (SYNTHETIC.test(name)) {
    return parseInt(createHash('sha256').update(name).digest('hex').slice(0, 2), 16) % 2 === 0
      ? 'evan_equip.json' : 'mechanic_equip.json';
  }
  return null;
}

const nexonError = (name, message) => JSON.stringify({ error: { name, message } });

const ICON_PATH = '/static/maplestory/item/icon/';
const NEXON_ICON = 'https://open.api.nexon.com' + ICON_PATH;
// A 32×32 opaque PNG (the size of the Open API's item icons): one grey square, made once.
const ICON_PNG = (() => {
  const { deflateSync, crc32 } = zlib;
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(32 * 3, 0x9a)]);
  const raw = Buffer.concat(Array.from({ length: 32 }, () => row));
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(32, 0); ihdr.writeUInt32BE(32, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
})();

/**
 * The equipment with every `item_icon` that points at the Open API's icon host pointing at this fake instead
 * (same icon id), so that nothing in a test is fetched from outside. Other values are left as they are.
 */
export function withLocalIcons(equipment, base) {
  const local = (item) => (typeof item?.item_icon === 'string' && item.item_icon.startsWith(NEXON_ICON)
    ? { ...item, item_icon: base + ICON_PATH + item.item_icon.slice(NEXON_ICON.length) } : item);
  const out = { ...equipment };
  for (const [k, v] of Object.entries(out)) if (Array.isArray(v)) out[k] = v.map(local);
  return out;
}

/** Start the fake. Returns {url, port, calls(), faults(f), revise(ocid, fixture?), reset(), stop()}. */
export async function startFakeUpstream({ port = 0 } = {}) {
  const fixtures = new Map();
  const fixture = (file) => {
    if (!fixtures.has(file)) fixtures.set(file, JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')));
    return fixtures.get(file);
  };
  // ocid -> name: the fixed names, and every name ever looked up.
  const ocids = new Map(['에반', '메카닉'].map((n) => [ocidOf(n), n]));
  let faults = {}; // kind ("id" | "equipment" | "*") -> fault settings
  let revisions = new Map(); // ocid -> revision number
  let regeared = new Map(); // ocid -> fixture file it now serves
  let iconRequests = 0;
  const selfUrl = () => `http://127.0.0.1:${server.address().port}`;
  let calls = { id: 0, equipment: 0, total: 0, byKey: {} };
  const sockets = new Set();
  const hanging = new Set();

  const faultFor = (kind) => ({ ...(faults['*'] ?? {}), ...(faults[kind] ?? {}) });

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://fake');
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(body);
    };
    const readJson = async () => {
      let text = '';
      for await (const chunk of req) text += chunk;
      return text ? JSON.parse(text) : {};
    };

    if (url.pathname.startsWith('/__control/')) {
      try {
        switch (`${req.method} ${url.pathname}`) {
          case 'GET /__control/calls':
            return send(200, JSON.stringify(calls));
          case 'POST /__control/reset':
            faults = {}; revisions = new Map(); regeared = new Map(); calls = { id: 0, equipment: 0, total: 0, byKey: {} };
            for (const r of hanging) r.destroy();
            hanging.clear();
            return send(200, '{}');
          case 'POST /__control/faults': {
            const { path = '*', ...settings } = await readJson();
            faults[path] = settings;
            if (!settings.hang) { for (const r of hanging) r.destroy(); hanging.clear(); }
            return send(200, JSON.stringify(faults));
          }
          case 'POST /__control/revise': {
            const { ocid, fixture: file } = await readJson();
            if (file !== undefined) {
              if (!['evan_equip.json', 'mechanic_equip.json'].includes(file)) throw new Error(`unknown fixture ${file}`);
              regeared.set(ocid, file);
            }
            revisions.set(ocid, (revisions.get(ocid) ?? 0) + 1);
            return send(200, JSON.stringify({ ocid, revision: revisions.get(ocid) }));
          }
          default:
            return send(404, '{"error":"no such control endpoint"}');
        }
      } catch (e) {
        return send(400, JSON.stringify({ error: String(e) }));
      }
    }

    // Item icons (issue 15): the fixtures' `item_icon` URLs point here (see `withLocalIcons`), so that a page
    // under test loads pictures without leaving the machine. Not counted as upstream calls.
    if (req.method === 'GET' && url.pathname.startsWith(ICON_PATH)) {
      iconRequests += 1;
      res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'max-age=3600' });
      return res.end(ICON_PNG);
    }
    if (req.method === 'GET' && url.pathname === '/__control/icons') return send(200, JSON.stringify({ requests: iconRequests }));

    const kind = PATH_KIND[url.pathname];
    if (!kind || req.method !== 'GET') {
      return send(400, nexonError('OPENAPI00006', 'Please input valid game or API path'));
    }
    const param = kind === 'id' ? url.searchParams.get('character_name') : url.searchParams.get('ocid');
    calls[kind] += 1;
    calls.total += 1;
    const key = `${kind}:${param}`;
    calls.byKey[key] = (calls.byKey[key] ?? 0) + 1;

    const f = faultFor(kind);
    if (f.latencyMs) await new Promise((r) => setTimeout(r, f.latencyMs));
    if (f.hang) { hanging.add(res.socket); return; } // never answers; the socket dies on reset/stop
    if (f.throttle) {
      return send(429, nexonError('OPENAPI00007', 'Too Many Requests'), { 'retry-after': String(f.throttle.retryAfterS) });
    }
    const failing = [faults[kind], faults['*']].find((x) => x?.failNext > 0);
    if (failing) {
      failing.failNext -= 1;
      return send(f.errorStatus ?? 500, nexonError('OPENAPI00001', 'Internal server error'));
    }
    if (f.errorRate && Math.random() < f.errorRate) {
      return send(f.errorStatus ?? 500, nexonError('OPENAPI00001', 'Internal server error'));
    }
    if (!req.headers['x-nxopen-api-key']) {
      return send(400, nexonError('OPENAPI00005', 'Please input valid api key'));
    }
    const unknownStatus = f.unknownStatus ?? 400;
    if (kind === 'id') {
      if (!param || !fixtureOf(param)) {
        return send(unknownStatus, nexonError('OPENAPI00004', 'Please input valid parameter'));
      }
      const ocid = ocidOf(param);
      ocids.set(ocid, param);
      return send(200, JSON.stringify({ ocid }));
    }
    const name = ocids.get(param);
    if (!name) return send(unknownStatus, nexonError('OPENAPI00003', 'Please input valid id'));
    const body = withLocalIcons({ ...fixture(regeared.get(param) ?? fixtureOf(name)) }, selfUrl());
    const revision = revisions.get(param);
    if (revision) body.date = `2025-01-${String(revision).padStart(2, '0')}T00:00+09:00`;
    return send(200, JSON.stringify(body));
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  const control = async (path, body) => {
    const r = await fetch(url + path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  return {
    url,
    port: server.address().port,
    calls: () => control('/__control/calls'),
    faults: (settings) => control('/__control/faults', settings),
    revise: (ocid, fixture) => control('/__control/revise', { ocid, fixture }),
    reset: () => control('/__control/reset', {}),
    stop: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const fake = await startFakeUpstream({ port: i > 0 ? Number(process.argv[i + 1]) : 9100 });
  console.log(`fake Nexon Open API on ${fake.url} (control: ${fake.url}/__control/calls)`);
}
