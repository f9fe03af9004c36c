import { describe, expect, it } from 'vitest';
import { wrapAsync } from '../src/index.ts';
import { EXPRESS_VERSIONS, makeEngine, serve, sqliteUrl } from './helpers.ts';

/** What a handler reports about the object it was given. */
function describeObject(value: Record<string, unknown>) {
  return {
    isAdmin: value.isAdmin ?? null,
    ownProto: Object.getOwnPropertyDescriptor(value, '__proto__')?.value ?? null,
    plainPrototype: Object.getPrototypeOf(value) === Object.prototype,
  };
}

describe.each(EXPRESS_VERSIONS)(
  'Express $major: req.body passed to a durable function',
  ({ express }) => {
    it('reaches the handler with its own __proto__ key as data, never as a prototype (SQLite file)', async () => {
      const engine = makeEngine({ storage: sqliteUrl() });
      const seen: unknown[] = [];
      const update = engine.durable('users:update', async (body: Record<string, unknown>) => {
        seen.push(describeObject(body));
        return describeObject(body);
      });
      await engine.start();
      const app = express();
      app.use(express.json());
      app.post(
        '/users',
        wrapAsync(async (req, res) => {
          // express.json() is JSON.parse: `__proto__` in the body is an own key of req.body.
          expect(Object.hasOwn(req.body, '__proto__')).toBe(true);
          const handle = await update(req.body);
          res.json(await handle.result(5000));
        }),
      );
      const { base } = await serve(app);

      const response = await fetch(`${base}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"__proto__":{"isAdmin":true},"name":"x"}',
      });
      const expected = { isAdmin: null, ownProto: { isAdmin: true }, plainPrototype: true };
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(expected);
      expect(seen).toEqual([expected]);
      const [job] = await engine.listJobs();
      expect(describeObject(job!.args[0] as Record<string, unknown>)).toEqual(expected);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    });
  },
);
