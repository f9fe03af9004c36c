declare module 'parse-prometheus-text-format' {
  /** One sample of a family; histograms' buckets are folded in (see the suite's note). */
  export interface PrometheusSample {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }

  /** One metric family, as prom2json shows it. */
  export interface PrometheusFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: PrometheusSample[];
  }

  /** Parses Prometheus text format 0.0.4; throws `InvalidLineError` on a malformed line. */
  export default function parsePrometheusTextFormat(text: string): PrometheusFamily[];
}
