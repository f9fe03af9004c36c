import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  checkAuthorization,
  DEFAULT_STOP_TIMEOUT_MS,
  EngineLifecycle,
  IntegrationConfigError,
  isReseolioEngine,
  matchJobRoute,
  renameDeprecatedOptions,
  resolveEngineBinding,
} from '../src/http/index.ts';
import { ReseolioValidationError } from '../src/index.ts';
import { makeEngine } from './helpers.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

const silent = { debug() {}, info() {}, warn() {}, error: vi.fn() };

describe('the engine check', () => {
  it('accepts an engine by shape, so a second copy of reseolio in the app still works', () => {
    const engine = makeEngine();
    expect(isReseolioEngine(engine)).toBe(true);
    // What another copy's instance looks like to this copy: not instanceof, same members.
    const foreign = Object.setPrototypeOf({ state: 'created' }, Object.getPrototypeOf(engine));
    expect(isReseolioEngine(foreign)).toBe(true);
    for (const value of [undefined, null, {}, 'engine', { stop() {}, durable() {} }]) {
      expect(isReseolioEngine(value)).toBe(false);
    }
  });
});

describe('engine binding', () => {
  it('owns an engine built from options and always stops it', () => {
    const binding = resolveEngineBinding({ storage: 'memory:', routes: {} }, 'x', {
      ownKeys: ['routes'],
    });
    expect(binding).toEqual({
      source: { kind: 'owned', options: { storage: 'memory:' } },
      stopsEngine: true,
      stopTimeoutMs: DEFAULT_STOP_TIMEOUT_MS,
    });
  });

  it('borrows an instance, stopped only with stopInstance: true', () => {
    const instance = makeEngine();
    expect(resolveEngineBinding({ instance }, 'x').stopsEngine).toBe(false);
    expect(resolveEngineBinding({ instance, stopInstance: true }, 'x').stopsEngine).toBe(true);
    // Engine options set to undefined beside an instance say nothing.
    expect(resolveEngineBinding({ instance, storage: undefined }, 'x').source.kind).toBe(
      'borrowed',
    );
  });

  it('refuses bad options with IntegrationConfigError, a ReseolioValidationError', () => {
    const instance = makeEngine();
    const cases: [Record<string, unknown>, RegExp, { engineOptions?: boolean }?][] = [
      [{ instance: {} }, /x: instance must be a Reseolio engine/],
      [{ instance, storage: 'memory:' }, /either instance or engine options.*storage/],
      [{ stopInstance: true }, /stopInstance only applies with instance/],
      [{ instance, stopInstance: 1 }, /stopInstance must be true or false/],
      [{ stopTimeoutMs: -1 }, /stopTimeoutMs must be an integer .* got -1/],
      [{ stopTimeoutMs: 2 ** 31 }, /from 0 to 2147483647/],
      [{}, /x need the engine: pass \{ instance: reseolio \}/, { engineOptions: false }],
    ];
    for (const [options, message, flags] of cases) {
      const run = () => resolveEngineBinding(options, 'x', flags);
      expect(run).toThrow(message);
      expect(run).toThrow(IntegrationConfigError);
      expect(run).toThrow(ReseolioValidationError);
    }
  });

  it('stops a borrowed engine only when told to, with the drain deadline', async () => {
    const left = makeEngine();
    await new EngineLifecycle(left, resolveEngineBinding({ instance: left }, 'x')).stop();
    expect(left.state).toBe('created');
    const stopped = makeEngine();
    const stop = vi.spyOn(stopped, 'stop');
    const binding = resolveEngineBinding(
      { instance: stopped, stopInstance: true, stopTimeoutMs: 5 },
      'x',
    );
    await new EngineLifecycle(stopped, binding).stop();
    expect(stop).toHaveBeenCalledWith({ timeoutMs: 5 });
    expect(stopped.state).toBe('stopped');
  });

  it('stops an owned engine again when its storage fails to open', async () => {
    const binding = resolveEngineBinding({ storage: 'nope://x' }, 'x');
    await expect(EngineLifecycle.open(binding)).rejects.toMatchObject({
      code: 'RESEOLIO_STORAGE_CONFIG',
    });
  });
});

describe('deprecated option names', () => {
  it('maps an old name to the new one where it was used, with a DeprecationWarning', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    expect(renameDeprecatedOptions({ drainTimeoutMs: 5 }, '@reseolio/nestjs', 'o')).toEqual({
      stopTimeoutMs: 5,
    });
    expect(warn).toHaveBeenCalledWith(
      '@reseolio/nestjs: the option drainTimeoutMs is deprecated and will be removed before 1.0; rename it to stopTimeoutMs (same meaning).',
      { type: 'DeprecationWarning', code: 'RESEOLIO_DEP_DRAIN_TIMEOUT_MS' },
    );
    // Only where it was a name: Fastify never had drainTimeoutMs, so it stays (and is refused).
    expect(renameDeprecatedOptions({ drainTimeoutMs: 5 }, '@reseolio/fastify', 'o')).toEqual({
      drainTimeoutMs: 5,
    });
    expect(renameDeprecatedOptions({ closeInstance: undefined }, '@reseolio/fastify', 'o')).toEqual(
      {},
    );
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('refuses the old and the new name together', () => {
    expect(() =>
      renameDeprecatedOptions({ timeoutMs: 1, stopTimeoutMs: 2 }, '@reseolio/express', 'o'),
    ).toThrow('o: give stopTimeoutMs only; timeoutMs is its deprecated name.');
  });
});

describe('authorize', () => {
  const run = (authorize: () => unknown) =>
    checkAuthorization(authorize as () => boolean, {}, silent);

  it('allows only true, refuses anything else with 403', async () => {
    expect(await run(() => true)).toBeUndefined();
    for (const value of [false, 'true', 1, null, undefined, {}]) {
      expect((await run(() => value))?.status).toBe(403);
    }
  });

  it('answers 401/403 for a throw that carries that status, 500 (logged) for any other throw', async () => {
    const status = (code: number, key = 'status') =>
      Object.assign(new Error('refused'), { [key]: code });
    expect((await run(() => Promise.reject(status(401))))?.status).toBe(401);
    expect((await run(() => Promise.reject(status(401, 'statusCode'))))?.status).toBe(401);
    expect((await run(() => Promise.reject(status(403))))?.status).toBe(403);
    expect(silent.error).not.toHaveBeenCalled();
    const bug = new TypeError('cannot read properties of undefined');
    for (const thrown of [bug, status(502), 'a string']) {
      const response = await run(() => {
        throw thrown;
      });
      expect(response).toMatchObject({
        status: 500,
        body: { error: { code: 'RESEOLIO_AUTHORIZE_FAILED' } },
      });
      expect(JSON.stringify(response)).not.toContain('cannot read');
    }
    expect(silent.error).toHaveBeenCalledWith(
      expect.stringMatching(/^authorize threw; answering 500\. .*status 401/),
      bug,
    );
  });
});

describe('the route table', () => {
  it('matches the five routes and decodes the id; anything else is not ours', () => {
    expect(matchJobRoute('GET', '/')).toEqual({ action: 'list', id: undefined });
    expect(matchJobRoute('GET', '/a%2Fb')).toEqual({ action: 'get', id: 'a/b' });
    expect(matchJobRoute('POST', '/j1/retry')).toEqual({ action: 'retry', id: 'j1' });
    expect(matchJobRoute('POST', '/j1/cancel')).toEqual({ action: 'cancel', id: 'j1' });
    expect(matchJobRoute('GET', '/j1/result')).toEqual({ action: 'result', id: 'j1' });
    expect(matchJobRoute('GET', '/%E0%A4%A')).toEqual({ action: 'get', id: null });
    for (const [method, path] of [
      ['POST', '/'],
      ['DELETE', '/j1'],
      ['GET', '/j1/retry'],
      ['POST', '/j1/result'],
      ['GET', '//result'],
      ['GET', '/j1/result/extra'],
      ['GET', '/j1/'],
    ]) {
      expect(matchJobRoute(method!, path!), `${method} ${path}`).toBeUndefined();
    }
  });
});
