// The calculator page: four tabs over one engine Worker, Korean by default, state in the URL.
//
// URL: `?tab=<starforce|potential|flame|character>&lang=<ko|en>&<prefix>.<field>=<value>…` with only the
// values that differ from their defaults, so a shared link reproduces the same inputs and so the same
// result (the engine is deterministic).
import { EngineClient } from './engine-client.js';
import { setLang, lang, t } from './i18n.js';
import { starforceTab } from './tabs/starforce.js';
import { potentialTab } from './tabs/potential.js';
import { flameTab } from './tabs/flame.js';
import { characterTab } from './tabs/character.js';

const TABS = ['starforce', 'potential', 'flame', 'character'];
const params = new URLSearchParams(location.search);
let activeTab = TABS.includes(params.get('tab')) ? params.get('tab') : 'starforce';

setLang(params.get('lang') === 'en' ? 'en' : 'ko');

const engine = new EngineClient();
let urlTimer = null;
const onValuesChange = () => {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(writeUrl, 50);
};

const tabs = {
  starforce: starforceTab({ engine, onValuesChange }),
  potential: potentialTab({ engine, onValuesChange }),
  flame: flameTab({ engine, onValuesChange }),
  character: characterTab({ engine, onValuesChange }),
};

function writeUrl() {
  const out = new URLSearchParams();
  if (activeTab !== 'starforce') out.set('tab', activeTab);
  if (lang() !== 'ko') out.set('lang', lang());
  for (const name of TABS) for (const [k, v] of tabs[name].encode()) out.append(k, v);
  const query = out.toString();
  history.replaceState(null, '', query ? `?${query}` : location.pathname);
}

// Tabs (WAI-ARIA tabs pattern): click or arrow keys / Home / End move between them.
const tabButtons = [.../** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[role="tab"]'))];
function selectTab(name, focus = false) {
  activeTab = name;
  for (const b of tabButtons) {
    const on = b.dataset.tab === name;
    b.setAttribute('aria-selected', String(on));
    b.tabIndex = on ? 0 : -1;
    document.getElementById(b.getAttribute('aria-controls')).hidden = !on;
    if (on && focus) b.focus();
  }
  for (const n of TABS) tabs[n].setActive(n === name);
  writeUrl();
}
for (const b of tabButtons) {
  b.addEventListener('click', () => selectTab(b.dataset.tab));
  b.addEventListener('keydown', (/** @type {KeyboardEvent} */ e) => {
    const i = tabButtons.indexOf(b);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabButtons.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    selectTab(tabButtons[(to + tabButtons.length) % tabButtons.length].dataset.tab, true);
  });
}

// Language toggle: the button names the other language in that language.
const toggle = document.getElementById('lang-toggle');
const toggleText = document.getElementById('lang-toggle-text');
function showToggle() {
  const other = lang() === 'ko' ? 'en' : 'ko';
  toggleText.textContent = other === 'en' ? 'English' : '한국어';
  toggleText.lang = other;
  toggle.setAttribute('aria-pressed', String(lang() === 'en'));
}
toggle.addEventListener('click', () => {
  setLang(lang() === 'ko' ? 'en' : 'ko');
  showToggle();
  writeUrl();
});
showToggle();

for (const name of TABS) tabs[name].load(params);
selectTab(activeTab);

engine.call('version', null).then(
  ({ response }) => {
    const v = document.getElementById('versions');
    v.dataset.engineVersion = response.engine_version;
    v.textContent = `engine ${response.engine_version}`;
  },
  (e) => {
    document.getElementById('versions').textContent = `${t('err.engine_unavailable')} (${e.message})`;
  },
);
