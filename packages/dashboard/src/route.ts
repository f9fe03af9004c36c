/** A request path relative to the dashboard's mount point, split once. */
export interface Route {
  /** The path without its query, as given (`'/api/jobs'`). */
  pathname: string;
  /**
   * The decoded, non-empty path segments (`['api', 'jobs']`). A segment that does not decode
   * (`%zz`) is kept as it is: no route matches it, so it answers 404.
   */
  segments: string[];
  query: URLSearchParams;
}

/** Splits `'/api/jobs?status=dead'` into its path segments and query. */
export function splitPath(path: string): Route {
  const mark = path.indexOf('?');
  const pathname = mark === -1 ? path : path.slice(0, mark);
  const query = new URLSearchParams(mark === -1 ? '' : path.slice(mark + 1));
  const segments = pathname
    .split('/')
    .filter((segment) => segment !== '')
    .map(decodeSegment);
  return { pathname: pathname === '' ? '/' : pathname, segments, query };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
