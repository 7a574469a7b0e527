import { EngineClient } from './engine-client.js';

const engine = new EngineClient();
const form = document.getElementById('starforce');
const out = document.getElementById('mean_cost');
const err = document.getElementById('error');
const raw = document.getElementById('raw');
let generation = 0;
let timer;

function request() {
  const f = new FormData(form);
  return {
    item_level: Number(f.get('item_level')),
    from_star: Number(f.get('from_star')),
    to_star: Number(f.get('to_star')),
  };
}

async function recompute() {
  const mine = ++generation;
  try {
    const { response, raw: text } = await engine.compute('starforce', request());
    if (mine !== generation) return;
    err.hidden = true;
    out.textContent = Math.round(response.mean_cost).toLocaleString('ko-KR') + ' 메소';
    out.title = String(response.mean_cost);
    raw.textContent = text;
    document.body.dataset.state = 'done';
  } catch (e) {
    if (mine !== generation) return;
    err.hidden = false;
    err.textContent = `${e.code}: ${e.message}`;
    document.body.dataset.state = 'error';
  }
}

form.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(recompute, 120);
});
recompute();
