/**
 * docs/observability.md, the Grafana dashboard and the alert rules against the one metrics
 * table (`METRICS`): every metric documented with its names, type, unit and labels, and every
 * PromQL expression shipped valid (parsed by Prometheus's own PromQL grammar) and using only
 * documented metrics and labels.
 */
import { readFileSync } from 'node:fs';
import { parser } from '@prometheus-io/lezer-promql';
import { METRICS } from 'reseolio';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const docs = (path: string) =>
  readFileSync(new URL(`../../../docs/${path}`, import.meta.url), 'utf8');

const guide = docs('observability.md');
const metrics = Object.values(METRICS);

/** The series names a scrape may hold: histograms add their bucket, sum and count. */
const SERIES = new Set(
  metrics.flatMap((m) =>
    m.kind === 'histogram'
      ? [`${m.prometheus}_bucket`, `${m.prometheus}_sum`, `${m.prometheus}_count`]
      : [m.prometheus],
  ),
);
/** Documented labels, plus Prometheus's own: `le` of buckets, `instance` and `job` of targets. */
const LABELS = new Set([...metrics.flatMap((m) => m.labels), 'le', 'instance', 'job']);

/** The metric and label names of a PromQL expression; throws where the grammar does not parse. */
function promqlNames(expr: string): { metrics: string[]; labels: string[] } {
  const found = { metrics: [] as string[], labels: [] as string[] };
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      const text = expr.slice(node.from, node.to);
      if (node.type.isError) errors.push(node.from);
      else if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        found.metrics.push(text);
      } else if (node.name === 'LabelName') found.labels.push(text);
    },
  });
  if (errors.length > 0) throw new Error(`PromQL does not parse at ${errors[0]}: ${expr}`);
  return found;
}

function expectDocumented(expr: string): void {
  const { metrics: used, labels } = promqlNames(expr);
  expect(used.length, expr).toBeGreaterThan(0);
  for (const name of used) expect(SERIES, `${name} in ${expr}`).toContain(name);
  for (const label of labels) expect(LABELS, `${label} in ${expr}`).toContain(label);
}

/** The rows of the markdown table whose header starts with `| OpenTelemetry |`. */
function metricsTable(markdown: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.startsWith('| OpenTelemetry |'));
  expect(start, 'the metrics table').toBeGreaterThan(-1);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split(' | ').map((cell) => cell.replace(/^\| |\|$/g, '').trim()));
  }
  return rows;
}

const code = (text: string) => `\`${text}\``;

describe('docs/observability.md', () => {
  it('documents every metric with both names, type, unit and labels, and no other', () => {
    const rows = metricsTable(guide);
    for (const metric of metrics) {
      const row = rows.find((cells) => cells[0] === code(metric.name));
      expect(row, metric.name).toBeDefined();
      const labels = metric.labels.length === 0 ? '—' : metric.labels.map(code).join(', ');
      expect(row!.slice(1, 5), metric.name).toEqual([
        code(metric.prometheus),
        metric.kind,
        code(metric.unit),
        labels,
      ]);
      expect(row![5]!.length, `meaning of ${metric.name}`).toBeGreaterThan(10);
    }
    expect(rows.map((cells) => cells[0])).toHaveLength(metrics.length);
  });

  it('uses only documented metrics in its PromQL examples', () => {
    const examples = [...guide.matchAll(/`((?:sum|max|time|increase)[^`]*\))(?: > \d+)?`/g)];
    expect(examples.length).toBeGreaterThan(3);
    for (const [example] of examples) expectDocumented(example!.slice(1, -1));
  });

  it('explains each alert rule and links the dashboard and the rules', () => {
    const rules = parseYaml(docs('prometheus/reseolio-alerts.yml')).groups[0].rules;
    for (const { alert } of rules) expect(guide).toContain(`**\`${alert}\`**`);
    expect(guide).toContain('(grafana/reseolio-dashboard.json)');
    expect(guide).toContain('(prometheus/reseolio-alerts.yml)');
  });
});

describe('docs/grafana/reseolio-dashboard.json', () => {
  const dashboard = JSON.parse(docs('grafana/reseolio-dashboard.json'));
  const panels: any[] = dashboard.panels.filter((panel: any) => panel.type !== 'row');

  /** Grafana's variables, as a scrape-free stand-in Prometheus would see. */
  const substitute = (expr: string) =>
    expr.replaceAll('$__rate_interval', '5m').replaceAll('$function', '.*');

  it('is a Grafana dashboard model with a data source variable and laid-out panels', () => {
    expect(dashboard).toMatchObject({
      title: expect.any(String),
      uid: expect.stringMatching(/^[\w-]{1,40}$/),
      schemaVersion: expect.any(Number),
      time: { from: expect.any(String), to: expect.any(String) },
      templating: {
        list: expect.arrayContaining([
          expect.objectContaining({ type: 'datasource', query: 'prometheus' }),
        ]),
      },
    });
    const ids = dashboard.panels.map((panel: any) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos, panel.title).toMatchObject({
        h: expect.any(Number),
        w: expect.any(Number),
        x: expect.any(Number),
        y: expect.any(Number),
      });
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({
        type: 'prometheus',
        uid: expect.stringMatching(/^\$\{datasource\}$/),
      });
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      const refIds = panel.targets.map((target: any) => target.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
    }
  });

  it('queries only documented metrics and labels, in PromQL that parses, and shows every metric', () => {
    const used = new Set<string>();
    const expressions = [
      ...panels.flatMap((panel) => panel.targets.map((target: any) => target.expr as string)),
      ...dashboard.templating.list
        .filter((variable: any) => variable.type === 'query')
        .map((variable: any) =>
          (variable.definition as string).replace(/^label_values\((\w+), \w+\)$/, '$1'),
        ),
    ];
    for (const expr of expressions) {
      expectDocumented(substitute(expr));
      for (const name of promqlNames(substitute(expr)).metrics)
        used.add(name.replace(/_(bucket|sum|count)$/, ''));
    }
    expect([...used].sort()).toEqual(metrics.map((m) => m.prometheus).sort());
  });
});

describe('docs/prometheus/reseolio-alerts.yml', () => {
  const rules: any[] = parseYaml(docs('prometheus/reseolio-alerts.yml')).groups[0].rules;

  it('has the three alerts: oldest pending age, dead jobs rate, no worker heartbeat', () => {
    expect(rules.map((rule) => rule.alert)).toEqual([
      'ReseolioJobsWaitingTooLong',
      'ReseolioDeadJobs',
      'ReseolioNoWorkerHeartbeat',
    ]);
    const [waiting, dead, heartbeat] = rules.map((rule) => promqlNames(rule.expr).metrics);
    expect(waiting).toEqual([METRICS.oldestPendingAge.prometheus]);
    expect(new Set(dead)).toEqual(new Set([METRICS.completed.prometheus]));
    expect(heartbeat).toEqual([
      METRICS.workerLastSeen.prometheus,
      METRICS.workerLastSeen.prometheus,
    ]);
    expect(rules[2].expr).toContain('absent(');
  });

  it('is a valid rule file: PromQL that parses, documented names, a duration, severity and summary', () => {
    for (const rule of rules) {
      expectDocumented(rule.expr);
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(rule.labels.severity, rule.alert).toMatch(/^(warning|critical)$/);
      expect(rule.annotations.summary, rule.alert).toEqual(expect.any(String));
      expect(rule.annotations.description, rule.alert).toEqual(expect.any(String));
    }
  });
});
