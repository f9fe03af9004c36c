import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (`#/jobs?status=dead&name=x`): the page's own URL never changes below the mount
 * point, so the relative asset and API URLs hold, and every view and filter is a shareable
 * link.
 */
export interface Location {
  /** `['jobs']`, `['jobs', '<id>']`, `['schedules']`, `[]` for the overview. */
  segments: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Location {
  const text = hash.replace(/^#/, '');
  const mark = text.indexOf('?');
  const path = mark === -1 ? text : text.slice(0, mark);
  const params = new URLSearchParams(mark === -1 ? '' : text.slice(mark + 1));
  const segments = path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { segments, params };
}

/** `#/jobs?status=dead` from a path and its parameters (empty values dropped). */
export function href(path: string, params: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, value);
  }
  const query = search.toString();
  return `#${path}${query === '' ? '' : `?${query}`}`;
}

export function navigate(to: string): void {
  location.hash = to.replace(/^#/, '');
}

export function useLocation(): Location {
  const [current, setCurrent] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setCurrent(parseHash(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return current;
}
