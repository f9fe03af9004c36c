// The demo page: plain DOM, polling the shop's JSON API once a second.

const $ = (selector) => document.querySelector(selector);
const STEP_ORDER = [
  'payment',
  'inventory',
  'shipping',
  'confirmation-email',
  'release-stock',
  'refund',
  'cancellation-email',
  'webhook',
];
const FAULT_LABELS = {
  latencyMs: ['Service latency (ms)', 0, 2000, 50],
  gatewayFailureRate: ['Gateway failures', 0, 1, 0.05],
  declineRate: ['Card declines', 0, 1, 0.05],
  carrierFailureRate: ['Carrier failures', 0, 1, 0.05],
  mailFailureRate: ['Mail failures', 0, 1, 0.05],
  imageFailureRate: ['Image failures', 0, 1, 0.05],
  webhookFailureRate: ['Webhook receiver 503s', 0, 1, 0.05],
};

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: options.body ? { 'content-type': 'application/json' } : {},
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error?.message ?? body.error ?? response.statusText);
  return body;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** Image jobs started from this page, by product: their progress shows under the product. */
const imageJobs = new Map();

/** Pattern 8: "Images: 2/3" from the job's reported progress while it runs. */
async function imageProgress(productId) {
  const jobId = imageJobs.get(productId);
  if (jobId === undefined) return null;
  const { status, progress } = await api(`/api/image-jobs/${jobId}`);
  const done = progress ? `${progress.done}/${progress.total}` : `0/?`;
  return el(
    'div',
    { class: `image-progress ${status}`, title: `job ${jobId}` },
    `Images: ${done} · ${status}`,
  );
}

async function renderProducts() {
  const { products } = await api('/api/products');
  const progress = await Promise.all(products.map((p) => imageProgress(p.id).catch(() => null)));
  $('#products').replaceChildren(
    ...products.map((p, i) =>
      el(
        'div',
        { class: 'product', 'data-product': p.id },
        el('strong', {}, p.name),
        el(
          'div',
          {},
          `${(p.priceCents / 100).toFixed(2)} € · `,
          el('span', { class: 'stock' }, `${p.stock} in stock`),
        ),
        el(
          'div',
          { class: 'thumbs' },
          ...p.images.map((size) =>
            el('img', {
              src: `/images/${p.id}/${size}.svg`,
              alt: `${size}px`,
              title: `${size}px rendition`,
            }),
          ),
        ),
        progress[i],
        el('button', { class: 'buy', onclick: () => buy(p.id) }, 'Buy'),
        el('button', { onclick: () => processImages(p.id) }, 'Process images'),
      ),
    ),
  );
}

async function buy(productId) {
  const order = await api('/api/orders', {
    method: 'POST',
    body: JSON.stringify({
      productId,
      quantity: Number($('#quantity').value) || 1,
      card: $('#card').value,
    }),
  });
  await renderOrders();
  return order;
}

async function processImages(productId) {
  const { jobId } = await api(`/api/products/${productId}/images`, { method: 'POST' });
  imageJobs.set(productId, jobId);
  await renderProducts();
}

function stepBadge(name, step) {
  if (!step) return null;
  return el(
    'span',
    { class: `step ${step.status}`, title: `job ${step.jobId}` },
    `${name}: ${step.status} · ${step.attempt}/${step.maxAttempts}`,
    step.error && step.status !== 'success'
      ? el('span', { class: 'err' }, ` · ${step.error}`)
      : null,
  );
}

/** Pattern 6: a fulfilled order's delivery workflow, waiting for the customer's click. */
function deliveryLine(o) {
  if (o.status !== 'fulfilled' || !o.delivery) return null;
  if (o.deliveredAt !== null) {
    return el(
      'div',
      { class: 'delivery delivered', title: `job ${o.delivery.jobId}` },
      `Delivery: delivered (${o.deliveryConfirmedBy})`,
    );
  }
  if (o.delivery.status === 'waiting') {
    const until = o.delivery.waitingFor?.until;
    return el(
      'div',
      { class: 'delivery waiting', title: `job ${o.delivery.jobId}: waiting, holding no worker` },
      'Delivery: waiting for confirmation',
      until
        ? el(
            'span',
            { class: 'hint' },
            ` · auto-confirms at ${new Date(until).toLocaleTimeString()}`,
          )
        : null,
    );
  }
  return el(
    'div',
    { class: 'delivery', title: `job ${o.delivery.jobId}` },
    `Delivery: ${o.delivery.status}`,
  );
}

async function confirmDelivery(orderId) {
  await api(`/api/orders/${orderId}/confirm-delivery`, { method: 'POST' });
  await renderOrders();
}

async function renderOrders() {
  const { orders } = await api('/api/orders?limit=20');
  $('#orders tbody').replaceChildren(
    ...orders.map((o) =>
      el(
        'tr',
        { 'data-order': o.id },
        el(
          'td',
          {},
          el('code', {}, o.id),
          el('div', { class: 'hint' }, `${o.quantity} × ${o.productId}`),
        ),
        el(
          'td',
          {},
          el('span', { class: `status ${o.status}` }, o.status),
          o.cancelReason ? el('div', { class: 'reason' }, o.cancelReason) : null,
          deliveryLine(o),
        ),
        el('td', {}, ...STEP_ORDER.map((name) => stepBadge(name, o.steps[name]))),
        el(
          'td',
          {},
          o.status === 'fulfilled'
            ? el('button', { onclick: () => openInvoice(o.id) }, 'Invoice')
            : null,
          o.delivery?.status === 'waiting' && o.deliveredAt === null
            ? el(
                'button',
                { class: 'confirm-delivery', onclick: () => confirmDelivery(o.id) },
                'Confirm delivery',
              )
            : null,
        ),
      ),
    ),
  );
}

async function openInvoice(orderId) {
  const invoice = await api(`/api/orders/${orderId}/invoice`);
  window.open(invoice.url, '_blank');
}

async function renderFaults() {
  const faults = await api('/api/faults');
  $('#faults').replaceChildren(
    ...Object.entries(FAULT_LABELS).map(([key, [label, min, max, step]]) => {
      const output = el('output', {}, String(faults[key]));
      const input = el('input', { type: 'range', name: key, min, max, step, value: faults[key] });
      input.addEventListener('input', () => {
        output.textContent = input.value;
      });
      input.addEventListener('change', () =>
        api('/api/faults', { method: 'PUT', body: JSON.stringify({ [key]: Number(input.value) }) }),
      );
      return el('label', {}, label, input, output);
    }),
  );
}

async function renderAudit() {
  const a = await api('/api/audit');
  $('#audit').replaceChildren(
    el(
      'div',
      {},
      `${a.orders.total} orders: ${a.orders.fulfilled} fulfilled, ${a.orders.cancelled} cancelled, ${a.orders.inFlight} in flight`,
    ),
    el(
      'div',
      {},
      `${a.payments.charged} charges, ${a.refunds.count} refunds, ${a.payments.replaysAbsorbed} retried charges answered from the ledger`,
    ),
    el(
      'div',
      {},
      `${a.emails.sent} emails, ${a.emails.replaysAbsorbed} retried sends deduplicated`,
    ),
    el(
      'div',
      {},
      `${a.webhooks.events} webhooks received, ${a.webhooks.redeliveriesDropped} redeliveries dropped`,
    ),
    a.violations.length === 0
      ? el('div', { class: 'ok' }, '✓ no double charge, no double email, stock adds up')
      : el(
          'div',
          { class: 'bad' },
          ...a.violations.slice(0, 5).map((v) => el('div', {}, `✗ ${v}`)),
        ),
  );
}

async function renderEmails() {
  const { emails } = await api('/api/emails');
  $('#emails').replaceChildren(
    ...emails.map((e) =>
      el(
        'li',
        {},
        `${e.template} → ${e.to}`,
        e.replays ? ` (${e.replays} retried sends absorbed)` : '',
      ),
    ),
  );
}

$('#signup').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await api('/api/signup', {
    method: 'POST',
    body: JSON.stringify(Object.fromEntries(form)),
  });
  $('#signup-result').textContent =
    `Signed up as ${result.userId}; the welcome email is on its way.`;
});

async function renderReportSchedule() {
  const schedule = await api('/api/reports/sales');
  const next = schedule.nextRunAt ? new Date(schedule.nextRunAt).toLocaleString() : 'never';
  $('#report-schedule').textContent =
    `"${schedule.cron}" in ${schedule.timezone}, ${schedule.status}: next ${next}` +
    (schedule.lastRunAt ? `, last ${new Date(schedule.lastRunAt).toLocaleString()}` : '');
}

$('#report-now').addEventListener('click', async () => {
  await api('/api/reports/sales/run', { method: 'POST' });
});

async function tick() {
  try {
    await Promise.all([
      renderOrders(),
      renderProducts(),
      renderAudit(),
      renderEmails(),
      renderReportSchedule(),
    ]);
  } catch (error) {
    console.warn('refresh failed', error);
  }
  setTimeout(tick, 1000);
}

await renderFaults();
tick();
