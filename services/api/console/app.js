// Hearth web console: reads the Lambda REST API and /hearth/v1/fleet of the api
// that serves it (same origin, unsigned: Hearth does not verify SigV4) and
// renders them with plain DOM calls. No framework, no build step, no external assets.

const FLEET_REFRESH_MS = 2000;
const CATALOG_REFRESH_MS = 5000;
/** A request that takes longer is abandoned; the next refresh tries again. */
const REQUEST_TIMEOUT_MS = 8000;
/** Most pages read of a paged list (50 items a page). */
const MAX_PAGES = 20;

/** Creates an element: h('td', { class: 'num' }, 'text', childNode, …). Text is never parsed as HTML. */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new Error(`${path}: HTTP ${response.status}, not JSON`);
  }
  if (!response.ok) {
    const type = response.headers.get('x-amzn-errortype') || `HTTP ${response.status}`;
    throw new Error(`${path}: ${type}: ${body.message || body.Message || text.slice(0, 200)}`);
  }
  return body;
}

/** Every item of a paged Lambda list operation (Marker / NextMarker). */
async function listAll(path, member, query = {}) {
  const items = [];
  let marker;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const params = new URLSearchParams({ ...query, MaxItems: '50', ...(marker ? { Marker: marker } : {}) });
    const body = await getJson(`${path}?${params}`);
    items.push(...(body[member] || []));
    marker = body.NextMarker;
    if (!marker) break;
  }
  return items;
}

const stateTone = {
  Active: 'ok', ActiveNonInvocable: 'ok', Running: 'ok', Ready: 'ok', Successful: 'ok',
  Pending: 'info', Starting: 'info', InProgress: 'info', Creating: 'info',
  Draining: 'warn', Stopping: 'warn', Deactivating: 'warn', Deactivated: 'warn', Inactive: 'warn', Deleting: 'warn', Terminating: 'warn', Unknown: 'warn',
  Failed: 'bad', Unhealthy: 'bad', Terminated: 'bad',
};

function badge(state) {
  return h('span', { class: `badge ${stateTone[state] || ''}`, 'data-state': state }, state || '—');
}

function bar(used, max) {
  const ratio = max > 0 ? Math.min(1, used / max) : 0;
  const tone = ratio >= 1 ? 'full' : ratio >= 0.8 ? 'high' : '';
  const fill = h('i');
  fill.style.width = `${(ratio * 100).toFixed(1)}%`;
  return h('div', { class: `bar ${tone}`, title: `${used} / ${max}` }, fill);
}

function replaceBody(table, rows, columns, emptyText) {
  const body = table.tBodies[0];
  body.replaceChildren(...(rows.length > 0 ? rows : [h('tr', {}, h('td', { colspan: columns, class: 'empty' }, emptyText))]));
}

/** Age of a report by the api's own clock (`capturedAt`), so a browser with a skewed clock reads it right. */
function ago(iso, capturedAt) {
  if (!iso) return 'no report yet';
  const seconds = Math.max(0, (Date.parse(capturedAt) - Date.parse(iso)) / 1000);
  return seconds < 1 ? 'reported just now' : `reported ${seconds.toFixed(0)} s ago`;
}

// ------------------------------------------------------------------ catalog

async function refreshCatalog() {
  const [providers, functions] = await Promise.all([
    listAll('/2025-11-30/capacity-providers', 'CapacityProviders'),
    listAll('/2015-03-31/functions', 'Functions'),
  ]);
  const versions = await Promise.all(
    functions.map((fn) =>
      listAll(`/2015-03-31/functions/${encodeURIComponent(fn.FunctionName)}/versions`, 'Versions').catch((error) => [{ FunctionName: fn.FunctionName, Version: '?', State: 'Unknown', StateReason: String(error.message || error) }]),
    ),
  );
  state.catalog = { providers, versions: versions.flat() };
  renderFunctions();
  renderProviders();
}

function renderFunctions() {
  const rows = (state.catalog?.versions || [])
    .slice()
    .sort((a, b) => a.FunctionName.localeCompare(b.FunctionName) || versionRank(a.Version) - versionRank(b.Version))
    .map((version) => {
      const providerArn = version.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig?.CapacityProviderArn || '';
      const reason = [version.StateReasonCode && h('code', {}, version.StateReasonCode), version.StateReason && ` ${version.StateReason}`,
        version.LastUpdateStatusReasonCode && version.LastUpdateStatus !== 'Successful' && h('div', {}, h('code', {}, version.LastUpdateStatusReasonCode), ` ${version.LastUpdateStatusReason || ''}`)];
      return h('tr', { 'data-function': version.FunctionName, 'data-version': version.Version },
        h('td', {}, h('b', {}, version.FunctionName)),
        h('td', {}, h('code', {}, version.Version)),
        h('td', { class: 'version-state' }, badge(version.State)),
        h('td', {}, version.LastUpdateStatus ? badge(version.LastUpdateStatus) : '—'),
        h('td', { class: 'reason' }, reason.some(Boolean) ? reason : '—'),
        h('td', {}, version.Runtime || '—'),
        h('td', { class: 'num' }, version.MemorySize ? `${version.MemorySize} MB` : '—'),
        h('td', {}, providerArn ? providerArn.split(':capacity-provider:').pop() : '—'),
      );
    });
  replaceBody(document.getElementById('functions'), rows, 8, 'No functions yet.');
}

/** $LATEST first, then numbered versions in numeric order. */
function versionRank(version) {
  return /^\d+$/.test(version) ? Number(version) : -1;
}

function renderProviders() {
  const inUse = new Map((state.fleet?.capacityProviders || []).map((provider) => [provider.arn, provider]));
  const rows = (state.catalog?.providers || []).map((provider) => {
    const name = provider.CapacityProviderArn.split(':capacity-provider:').pop();
    const max = provider.CapacityProviderScalingConfig?.MaxVCpuCount ?? inUse.get(provider.CapacityProviderArn)?.maxVCpuCount ?? 400;
    const used = inUse.get(provider.CapacityProviderArn)?.vCpusInUse ?? 0;
    return h('tr', { 'data-provider': name },
      h('td', {}, h('b', {}, name)),
      h('td', {}, badge(provider.State)),
      h('td', { class: 'num' }, max),
      h('td', { class: 'num' }, used),
      h('td', {}, bar(used, max)),
    );
  });
  replaceBody(document.getElementById('providers'), rows, 5, 'No capacity providers yet.');
}

// ------------------------------------------------------------------ fleet

async function refreshFleet() {
  state.fleet = await getJson('/hearth/v1/fleet');
  renderFleet();
  renderProviders();
}

function stat(value, label, hot = false) {
  return h('div', { class: `stat ${hot ? 'hot' : ''}` }, h('b', {}, value), h('span', {}, label));
}

function renderFleet() {
  const fleet = state.fleet;
  const totals = fleet.totals;
  const throttles = totals.recentThrottles ?? totals.throttles;
  document.getElementById('totals').replaceChildren(
    stat(totals.instances, 'instances'),
    stat(totals.environments, 'execution environments'),
    stat(`${totals.inFlight} / ${totals.maxConcurrency}`, 'in flight / max'),
    stat(throttles, `throttles${fleet.recentThrottleWindowSeconds ? ` (${fleet.recentThrottleWindowSeconds} s)` : ''}`, throttles > 0),
  );

  const notes = document.getElementById('notes');
  notes.hidden = !(fleet.notes && fleet.notes.length > 0);
  notes.replaceChildren(...(fleet.notes || []).map((note) => h('p', {}, note)));

  const zones = new Map();
  for (const instance of fleet.instances) {
    const zone = instance.zone || 'no zone';
    if (!zones.has(zone)) zones.set(zone, []);
    zones.get(zone).push(instance);
  }
  const container = document.getElementById('fleet');
  if (zones.size === 0) {
    container.replaceChildren(h('p', { class: 'empty' }, 'No instances. Publishing a function version launches them.'));
    return;
  }
  container.replaceChildren(
    ...[...zones.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([zone, instances]) => {
      const ees = instances.reduce((sum, instance) => sum + instance.environments.length, 0);
      return h('div', { class: 'zone', 'data-zone': zone },
        h('h3', {}, h('b', {}, zone), h('span', {}, `${instances.length} instance${instances.length === 1 ? '' : 's'} · ${ees} EE${ees === 1 ? '' : 's'}`)),
        ...instances.map(renderInstance),
      );
    }),
  );
}

function renderInstance(instance) {
  const throttling = instance.environments.some((ee) => (ee.recentThrottles ?? ee.throttles) > 0);
  const meta = [instance.capacityProviderName, instance.instanceType, instance.vCpus ? `${instance.vCpus} vCPU` : '', instance.memoryMiB ? `${(instance.memoryMiB / 1024).toFixed(0)} GiB` : '',
    instance.cpuPercent === null || instance.cpuPercent === undefined ? '' : `CPU ${instance.cpuPercent.toFixed(0)}%`, ago(instance.lastReportAt, state.fleet.capturedAt)].filter(Boolean).join(' · ');
  const rows = instance.environments.map((ee) => {
    const throttles = ee.recentThrottles ?? ee.throttles;
    return h('tr', { class: throttles > 0 ? 'throttled' : '', 'data-environment-id': ee.environmentId, 'data-function': `${ee.functionName}:${ee.version}` },
      h('td', { class: 'fn', title: ee.environmentId }, `${ee.functionName}:${ee.version}`),
      h('td', {}, badge(ee.state)),
      h('td', { class: 'num', title: 'in flight / max concurrency' }, `${ee.inFlight}/${ee.maxConcurrency}`),
      h('td', { class: 'load' }, bar(ee.inFlight, ee.maxConcurrency)),
      h('td', { class: 'num', title: 'CPU, percent of the EE share' }, `${ee.cpuPercent.toFixed(0)}%`),
      h('td', { class: `num ${throttles > 0 ? 'throttles' : 'quiet'}`, title: 'throttles (refused invocations) recently' }, throttles),
    );
  });
  return h('article', { class: `instance ${throttling ? 'throttling' : ''}`, 'data-instance-id': instance.instanceId },
    h('header', {}, h('code', {}, instance.instanceId), badge(instance.state)),
    h('div', { class: 'meta' }, meta, instance.stateReason ? ` · ${instance.stateReason}` : ''),
    rows.length > 0
      ? h('table', { class: 'ees' },
        h('thead', {}, h('tr', {}, h('th', {}, 'function:version'), h('th', {}, 'state'), h('th', { class: 'num' }, 'in flight'), h('th', { class: 'load' }, ''), h('th', { class: 'num' }, 'CPU'), h('th', { class: 'num', title: `refused invocations, last ${state.fleet?.recentThrottleWindowSeconds ?? 10} s` }, 'throttles'))),
        h('tbody', {}, rows))
      : h('div', { class: 'empty' }, 'no execution environments'),
  );
}

// ------------------------------------------------------------------ loop

const state = { catalog: undefined, fleet: undefined, lastOk: 0, errors: new Map() };

function renderRefresh() {
  const element = document.getElementById('refresh');
  const errors = [...state.errors.values()];
  element.classList.toggle('stale', errors.length > 0);
  element.textContent = errors.length > 0 ? `refresh failed: ${errors[0]}` : `updated ${new Date(state.lastOk).toLocaleTimeString()}`;
  element.title = errors.join('\n');
}

/** Runs `work` now and then `everyMs` after each run ends (never two at once). */
function every(name, everyMs, work) {
  const run = async () => {
    try {
      await work();
      state.errors.delete(name);
      state.lastOk = Date.now();
    } catch (error) {
      state.errors.set(name, String(error?.message || error));
    }
    renderRefresh();
    setTimeout(run, everyMs);
  };
  void run();
}

every('fleet', FLEET_REFRESH_MS, refreshFleet);
every('catalog', CATALOG_REFRESH_MS, refreshCatalog);
