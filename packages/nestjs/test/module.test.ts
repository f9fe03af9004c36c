import {
  Controller,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnModuleInit,
  Post,
  Scope,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { currentJob, DuplicateFunctionError, MemoryStorage, Reseolio } from 'reseolio';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DuplicateDurableError,
  Durable,
  DurableHandles,
  IntegrationConfigError,
  NotDurableError,
  RESEOLIO_ENGINE,
  ReseolioModule,
  type ReseolioModuleOptions,
  type ReseolioOptionsFactory,
} from '../src/index.ts';
import { tmpSqliteUrl, track } from './helpers.ts';

/** A ConfigModule-like module of our own: values handed in, read by key. */
const CONFIG_VALUES = 'CONFIG_VALUES';

@Injectable()
class ConfigService {
  constructor(@Inject(CONFIG_VALUES) private readonly values: Record<string, string>) {}

  get(key: string): string {
    const value = this.values[key];
    if (value === undefined) throw new Error(`missing config ${key}`);
    return value;
  }
}

@Injectable()
class ReseolioConfig implements ReseolioOptionsFactory {
  constructor(private readonly config: ConfigService) {}

  createReseolioOptions(): ReseolioModuleOptions {
    return { storage: this.config.get('RESEOLIO_STORAGE'), pollIntervalMs: 50 };
  }
}

@Module({})
class ConfigModule {
  static forRoot(values: Record<string, string>): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: CONFIG_VALUES, useValue: values }, ConfigService, ReseolioConfig],
      exports: [ConfigService, ReseolioConfig],
    };
  }
}

@Injectable()
class GreeterService {
  readonly calls: Array<{ name: string; options: unknown; jobId: string | undefined }> = [];

  @Durable()
  async greet(name: string, options: { timeoutMs: number }): Promise<string> {
    this.calls.push({ name, options, jobId: currentJob()?.jobId });
    return `hello ${name}`;
  }

  // Not durable: DurableHandles.of() refuses it.
  async plain(): Promise<string> {
    return 'plain';
  }
}

async function createApp(imports: DynamicModule[], providers: any[] = [GreeterService]) {
  const moduleRef = await Test.createTestingModule({ imports, providers }).compile();
  const app = track(moduleRef.createNestApplication());
  await app.init();
  return app;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('forRootAsync', () => {
  it('builds the options with useFactory + inject from an imported config module (SQLite file)', async () => {
    const storage = tmpSqliteUrl();
    const app = await createApp([
      ReseolioModule.forRootAsync({
        imports: [ConfigModule.forRoot({ RESEOLIO_STORAGE: storage })],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          storage: config.get('RESEOLIO_STORAGE'),
          pollIntervalMs: 50,
        }),
      }),
    ]);
    const greeter = app.get(GreeterService);
    const handle = await app.get(DurableHandles).of(greeter).greet('ada', { timeoutMs: 1 });
    expect(await handle.result(5000)).toBe('hello ada');
    await app.close();

    // The job was stored in the configured file.
    const inspector = new Reseolio({ storage, workerConcurrency: 0 });
    expect(await inspector.getHandle(handle.jobId).details()).toMatchObject({
      name: 'GreeterService:greet',
      status: 'success',
      result: 'hello ada',
    });
    await inspector.stop();
  });

  it('builds the options with useClass, injecting the class from imports', async () => {
    const app = await createApp([
      ReseolioModule.forRootAsync({
        imports: [ConfigModule.forRoot({ RESEOLIO_STORAGE: 'memory:' })],
        useClass: ReseolioConfig,
      }),
    ]);
    expect(await app.get(GreeterService).greet('bob', { timeoutMs: 1 })).toBe('hello bob');
  });

  it('takes the options from an existing provider with useExisting', async () => {
    const app = await createApp([
      ReseolioModule.forRootAsync({
        imports: [ConfigModule.forRoot({ RESEOLIO_STORAGE: 'memory:' })],
        useExisting: ReseolioConfig,
      }),
    ]);
    expect(await app.get(GreeterService).greet('cy', { timeoutMs: 1 })).toBe('hello cy');
  });

  it('refuses a storage read from an unset config value instead of using ./reseolio.db', async () => {
    const env: Record<string, string | undefined> = {}; // DATABASE_URL not set
    await expect(
      createApp([
        ReseolioModule.forRootAsync({ useFactory: () => ({ storage: env.DATABASE_URL }) }),
      ]),
    ).rejects.toMatchObject({
      code: 'RESEOLIO_STORAGE_CONFIG',
      message: expect.stringContaining('unset environment variable'),
    });
  });

  it('refuses async options without a factory', () => {
    expect(() => ReseolioModule.forRootAsync({ imports: [] })).toThrow(
      /needs one of useFactory, useClass or useExisting/,
    );
  });

  it('refuses routes, metrics or a dashboard returned by the factory, and says where to give them', async () => {
    for (const option of ['routes', 'metrics', 'dashboard']) {
      await expect(
        createApp([
          ReseolioModule.forRootAsync({
            useFactory: () => ({ storage: 'memory:', [option]: { public: true } }),
          }),
        ]),
      ).rejects.toThrow(`give ${option} beside useFactory/useClass/useExisting`);
    }
  });

  it('refuses metrics with no authorize to share and none of its own', () => {
    expect(() => ReseolioModule.forRoot({ storage: 'memory:', metrics: true })).toThrow(
      /give metrics\.authorize .* or set public: true/,
    );
  });
});

describe('@Durable methods', () => {
  it('runs a direct call as a job with the original method, passing arguments intact', async () => {
    const app = await createApp([ReseolioModule.forRoot({ storage: 'memory:' })]);
    const greeter = app.get(GreeterService);
    // The last argument looks like call options ({ timeoutMs }); it must reach the method.
    expect(await greeter.greet('dee', { timeoutMs: 5 })).toBe('hello dee');
    expect(greeter.calls).toHaveLength(1);
    expect(greeter.calls[0]).toMatchObject({ name: 'dee', options: { timeoutMs: 5 } });
    // The body ran inside a job (the original method, not the replaced one enqueuing again).
    expect(greeter.calls[0]!.jobId).toEqual(expect.any(String));
  });

  it('starts a job through DurableHandles with per-call options and refuses non-durable members', async () => {
    const app = await createApp([ReseolioModule.forRoot({ storage: 'memory:' })]);
    const greeter = app.get(GreeterService);
    const handles = app.get(DurableHandles);
    const a = await handles.of(greeter, { idempotencyKey: 'once' }).greet('eve', { timeoutMs: 1 });
    const b = await handles.of(greeter, { idempotencyKey: 'once' }).greet('eve', { timeoutMs: 1 });
    expect(b.jobId).toBe(a.jobId);
    expect(await a.result(5000)).toBe('hello eve');
    expect(greeter.calls).toHaveLength(1);

    expect(() => handles.of(greeter).plain()).toThrow(NotDurableError);
    expect(() => handles.of(greeter).plain()).toThrow(/GreeterService\.plain is not a @Durable/);
    expect(() => handles.of({})).toThrow(/Object has no registered @Durable\(\) methods/);
  });

  it('takes priority, concurrency per key and rateLimit on @Durable(); a call through DurableHandles overrides the key', async () => {
    @Injectable()
    class ExportService {
      running = 0;
      maxRunning = 0;

      @Durable('exports:run', {
        priority: 3,
        concurrency: { limit: 1, key: (customerId: string) => customerId },
        rateLimit: { limit: 100, periodMs: 1000 },
      })
      async run(customerId: string, reportId: string): Promise<string> {
        this.running += 1;
        this.maxRunning = Math.max(this.maxRunning, this.running);
        for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
        this.running -= 1;
        return `${customerId}/${reportId}`;
      }
    }
    const app = await createApp([ReseolioModule.forRoot({ storage: 'memory:' })], [ExportService]);
    const service = app.get(ExportService);
    const handles = app.get(DurableHandles);
    const runs = await Promise.all(
      ['r1', 'r2', 'r3', 'r4'].map((report) => handles.of(service).run('c-1', report)),
    );
    expect(await Promise.all(runs.map((h) => h.result(10_000)))).toEqual([
      'c-1/r1',
      'c-1/r2',
      'c-1/r3',
      'c-1/r4',
    ]);
    expect(service.maxRunning).toBe(1);
    expect(await runs[0]!.details()).toMatchObject({ priority: 3, concurrencyKey: 'c-1' });
    const other = await handles
      .of(service, { concurrencyKey: 'tenant-9', priority: 7 })
      .run('c-1', 'r5');
    expect(await other.details()).toMatchObject({ priority: 7, concurrencyKey: 'tenant-9' });
  });

  it('registers on a borrowed engine, starts its workers and leaves it running on close unless stopInstance', async () => {
    const engine = new Reseolio({ storage: new MemoryStorage(), pollIntervalMs: 50 });
    const app = await createApp([ReseolioModule.forRoot({ instance: engine })]);
    expect(app.get(RESEOLIO_ENGINE)).toBe(engine);
    expect(engine.state).toBe('started');
    expect(await app.get(GreeterService).greet('fay', { timeoutMs: 1 })).toBe('hello fay');
    await app.close();
    expect(engine.state).toBe('started');
    await engine.stop();

    const stopped = new Reseolio({ storage: new MemoryStorage(), pollIntervalMs: 50 });
    const stopping = await createApp([
      ReseolioModule.forRoot({ instance: stopped, stopInstance: true, stopTimeoutMs: 100 }),
    ]);
    expect(stopped.state).toBe('started');
    await stopping.close();
    expect(stopped.state).toBe('stopped');
  });

  it('accepts an engine from another copy of reseolio (checked by shape, not instanceof)', async () => {
    const real = new Reseolio({ storage: 'memory:' });
    // What an engine made by a second install of reseolio looks like from this one.
    const foreign = new Proxy(real, {
      getPrototypeOf: () => Object.prototype,
      get: (target, key) => {
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    expect(foreign instanceof Reseolio).toBe(false);
    const app = await createApp([ReseolioModule.forRoot({ instance: foreign })]);
    expect(await app.get(GreeterService).greet('kim', { timeoutMs: 1 })).toBe('hello kim');
    await app.close();
    await real.stop();
  });

  it('refuses { instance } combined with engine options', async () => {
    const engine = new Reseolio({ storage: 'memory:' });
    await expect(
      createApp([
        ReseolioModule.forRoot({ instance: engine, storage: 'memory:' } as ReseolioModuleOptions),
      ]),
    ).rejects.toMatchObject({
      code: 'RESEOLIO_INVALID_OPTION',
      message: expect.stringContaining('either instance or engine options'),
    });
    await expect(
      createApp([ReseolioModule.forRoot({ instance: {} as Reseolio })]),
    ).rejects.toBeInstanceOf(IntegrationConfigError);
  });

  it('throws DuplicateDurableError naming both methods when two share a name', async () => {
    @Injectable()
    class MailerA {
      @Durable('mail:send')
      async send(): Promise<void> {}
    }
    @Injectable()
    class MailerB {
      @Durable({ name: 'mail:send', maxAttempts: 1 })
      async deliver(): Promise<void> {}
    }
    const error = await createApp(
      [ReseolioModule.forRoot({ storage: 'memory:' })],
      [MailerA, MailerB],
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateDurableError);
    expect(error).toMatchObject({
      code: 'RESEOLIO_DUPLICATE_DURABLE',
      durableName: 'mail:send',
      message: expect.stringMatching(/both MailerA\.send and MailerB\.deliver/),
    });
  });

  it('throws DuplicateDurableError when a borrowed engine already has the name', async () => {
    const engine = new Reseolio({ storage: 'memory:' });
    engine.durable('GreeterService:greet', async () => 'outside');
    const error = await createApp([ReseolioModule.forRoot({ instance: engine })]).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DuplicateDurableError);
    expect((error as Error).cause).toBeInstanceOf(DuplicateFunctionError);
    await engine.stop();
  });

  it('asks for an explicit name when the default one is not a valid name', async () => {
    @Injectable()
    class Billing$Service {
      @Durable()
      async bill(): Promise<void> {}
    }
    await expect(
      createApp([ReseolioModule.forRoot({ storage: 'memory:' })], [Billing$Service]),
    ).rejects.toMatchObject({
      code: 'RESEOLIO_INVALID_NAME',
      message: expect.stringMatching(/^Cannot register Billing\$Service\.bill .*explicit name/s),
    });
  });

  it('refuses a stopTimeoutMs longer than a timer can wait', async () => {
    await expect(
      createApp([ReseolioModule.forRoot({ storage: 'memory:', stopTimeoutMs: 2 ** 31 })]),
    ).rejects.toMatchObject({
      code: 'RESEOLIO_INVALID_OPTION',
      message: expect.stringContaining(
        'stopTimeoutMs must be an integer number of milliseconds from 0 to 2147483647',
      ),
    });
  });

  it('still takes the deprecated drainTimeoutMs as stopTimeoutMs, with a DeprecationWarning', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const app = await createApp([
      ReseolioModule.forRoot({ storage: 'memory:', drainTimeoutMs: 50 }),
    ]);
    const engine = app.get<Reseolio>(RESEOLIO_ENGINE);
    const stop = vi.spyOn(engine, 'stop');
    await app.close();
    expect(stop).toHaveBeenCalledWith({ timeoutMs: 50 });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('drainTimeoutMs is deprecated'), {
      type: 'DeprecationWarning',
      code: 'RESEOLIO_DEP_DRAIN_TIMEOUT_MS',
    });
  });

  it('ignores engine options set to undefined beside a borrowed instance', async () => {
    const engine = new Reseolio({ storage: 'memory:' });
    const app = await createApp([
      ReseolioModule.forRoot({
        instance: engine,
        storage: undefined,
        stopTimeoutMs: undefined,
        stopInstance: undefined,
      } as ReseolioModuleOptions),
    ]);
    expect(app.get(RESEOLIO_ENGINE)).toBe(engine);
    await app.close();
    await engine.stop();
  });

  it('refuses bad routes where the module is imported, and options that are not an object', async () => {
    expect(() => ReseolioModule.forRoot({ storage: 'memory:', routes: {} })).toThrow(
      /give routes\.authorize .* or set public: true/,
    );
    expect(() =>
      ReseolioModule.forRoot({ storage: 'memory:', routes: { public: true, prefix: 'jobs' } }),
    ).toThrow(IntegrationConfigError);
    await expect(
      createApp([ReseolioModule.forRoot(undefined as unknown as ReseolioModuleOptions)]),
    ).rejects.toThrow(/ReseolioModule options must be an object/);
  });

  it('refuses a stopTimeoutMs that is not an integer >= 0', async () => {
    await expect(
      createApp([ReseolioModule.forRoot({ storage: 'memory:', stopTimeoutMs: -1 })]),
    ).rejects.toBeInstanceOf(IntegrationConfigError);
  });

  it('skips request-scoped providers with a warning', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @Durable('per-request:run')
      async run(): Promise<string> {
        return 'ran';
      }
    }
    const app = await createApp([ReseolioModule.forRoot({ storage: 'memory:' })], [PerRequest]);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('Cannot register @Durable() methods of "PerRequest"'),
    );
    // Not registered: the name is still free on the engine.
    const engine = app.get<Reseolio>(RESEOLIO_ENGINE);
    expect(() => engine.durable('per-request:run', async () => 'x')).not.toThrow();
  });

  it('can start jobs from a user onModuleInit hook; they run once the app bootstraps', async () => {
    @Injectable()
    class Warmup implements OnModuleInit {
      jobId: string | undefined;
      constructor(
        private readonly greeter: GreeterService,
        private readonly handles: DurableHandles,
      ) {}
      async onModuleInit() {
        // Start, don't await the result: workers start on bootstrap, after every onModuleInit.
        this.jobId = (await this.handles.of(this.greeter).greet('init', { timeoutMs: 1 })).jobId;
      }
    }
    const app = await createApp(
      [ReseolioModule.forRoot({ storage: 'memory:' })],
      [GreeterService, Warmup],
    );
    const engine = app.get<Reseolio>(RESEOLIO_ENGINE);
    const jobId = app.get(Warmup).jobId!;
    expect(await engine.getHandle(jobId).result(5000)).toBe('hello init');
  });
});

describe('@Durable methods on controllers', () => {
  it("registers them like a provider's: a direct call runs as a job", async () => {
    @Controller('hooks')
    class HooksController {
      readonly jobIds: (string | undefined)[] = [];

      @Durable('hooks:process')
      async process(id: string): Promise<string> {
        this.jobIds.push(currentJob()?.jobId);
        return `processed ${id}`;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ReseolioModule.forRoot({ storage: 'memory:' })],
      controllers: [HooksController],
    }).compile();
    const app = track(moduleRef.createNestApplication());
    await app.init();
    const hooks = app.get(HooksController);
    expect(await hooks.process('h1')).toBe('processed h1');
    expect(hooks.jobIds).toEqual([expect.any(String)]);
    const handle = await app.get(DurableHandles).of(hooks).process('h2');
    expect(await handle.result(5000)).toBe('processed h2');
    const engine = app.get<Reseolio>(RESEOLIO_ENGINE);
    expect(await engine.listJobs({ name: 'hooks:process', status: 'success' })).toHaveLength(2);
  });

  it('warns that a route handler marked @Durable() is called directly by HTTP requests', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    @Controller('orders')
    class OrdersController {
      @Post('charge')
      @Durable('orders:charge-route')
      async charge(): Promise<string> {
        return 'charged';
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ReseolioModule.forRoot({ storage: 'memory:' })],
      controllers: [OrdersController],
    }).compile();
    await track(moduleRef.createNestApplication()).init();
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('OrdersController.charge is both a route handler and @Durable()'),
    );
  });
});

describe('lifecycle and logging', () => {
  it('logs engine messages through the Nest Logger', async () => {
    const error = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => {});
    const app = await createApp([ReseolioModule.forRoot({ storage: 'memory:' })]);
    const engine = app.get<Reseolio>(RESEOLIO_ENGINE);
    engine.on('job:success', () => {
      throw new Error('listener boom');
    });
    await app.get(GreeterService).greet('gil', { timeoutMs: 1 });
    expect(error).toHaveBeenCalledWith(
      expect.stringContaining('a "job:success" listener threw'),
      expect.stringContaining('listener boom'),
    );
  });

  it('fails app.init() when storage cannot be opened', async () => {
    await expect(
      createApp([ReseolioModule.forRoot({ storage: 'nope://x' })]),
    ).rejects.toMatchObject({ code: 'RESEOLIO_STORAGE_CONFIG' });
  });

  it('stops an owned engine on close and refuses calls afterwards', async () => {
    const app = await createApp([ReseolioModule.forRoot({ storage: 'memory:' })]);
    const engine = app.get<Reseolio>(RESEOLIO_ENGINE);
    const greeter = app.get(GreeterService);
    expect(engine.state).toBe('started');
    await app.close();
    expect(engine.state).toBe('stopped');
    await expect(greeter.greet('late', { timeoutMs: 1 })).rejects.toMatchObject({
      code: 'RESEOLIO_INVALID_STATE',
    });
  });
});
