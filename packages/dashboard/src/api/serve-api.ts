import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorResponse } from 'reseolio/http';
import type { ResolvedDashboardOptions } from '../options.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../route.ts';

/** `api/…`: the JSON the page reads and the actions it posts. */
export async function serveApi<Req>(
  config: ResolvedDashboardOptions<Req>,
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
): Promise<void> {
  const [, resource] = route.segments;
  if (resource === 'overview' && req.method === 'GET') {
    const stats = await config.instance.stats();
    sendJson(res, { status: 200, body: { stats } });
    return;
  }
  sendJson(
    res,
    errorResponse(404, 'RESEOLIO_NOT_FOUND', `The dashboard has no ${route.pathname}.`),
  );
}
