import {
  Body,
  Controller,
  Get,
  Injectable,
  Param,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { type JobJSON, Reseolio, toJobJSON } from 'reseolio';
import { describe, expect, it } from 'vitest';
import { Durable, DurableHandles, InjectReseolio, ReseolioModule } from '../src/index.ts';
import {
  closeApp,
  type HttpAdapterName,
  http,
  sleep,
  startApp,
  tmpSqliteUrl,
  track,
  waitFor,
} from './helpers.ts';

interface Report {
  id: string;
  pages: number;
  builtAt: Date;
}

@Injectable()
class ReportsService {
  readonly finished: string[] = [];

  @Durable('reports:build')
  async build(id: string, pages: number): Promise<Report> {
    return { id, pages, builtAt: new Date() };
  }

  @Durable('reports:slow')
  async slow(id: string, ms: number): Promise<string> {
    await sleep(ms);
    this.finished.push(id);
    return `done:${id}`;
  }
}

@Controller()
class ReportsController {
  constructor(
    private readonly reports: ReportsService,
    private readonly handles: DurableHandles,
    @InjectReseolio() private readonly reseolio: Reseolio,
  ) {}

  @Post('reports/:id')
  async start(@Param('id') id: string, @Body() body: { pages: number }) {
    const handle = await this.handles.of(this.reports).build(id, body.pages);
    return { jobId: handle.jobId };
  }

  @Post('reports/:id/now')
  buildNow(@Param('id') id: string, @Body() body: { pages: number }): Promise<Report> {
    return this.reports.build(id, body.pages);
  }

  @Post('slow/:id')
  async startSlow(@Param('id') id: string, @Body() body: { ms: number }) {
    const handle = await this.handles.of(this.reports).slow(id, body.ms);
    return { jobId: handle.jobId };
  }

  @Get('jobs/:id')
  async details(@Param('id') id: string): Promise<JobJSON> {
    return toJobJSON(await this.reseolio.getHandle(id).details());
  }

  @Get('jobs/:id/result')
  async result(@Param('id') id: string) {
    return { result: await this.reseolio.getHandle(id).result(5000) };
  }
}

describe.each<HttpAdapterName>(['express', 'fastify'])(
  'over HTTP with the %s adapter',
  (adapter) => {
    it('enqueues a job from a request, runs it and serves its result and details', async () => {
      const storage = tmpSqliteUrl();
      const { url } = await startApp(
        {
          imports: [ReseolioModule.forRoot({ storage, pollIntervalMs: 50 })],
          controllers: [ReportsController],
          providers: [ReportsService],
        },
        adapter,
      );

      const { jobId } = await http<{ jobId: string }>(`${url}/reports/r1`, {
        method: 'POST',
        body: { pages: 3 },
      });
      expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
      const { result } = await http<{ result: Report }>(`${url}/jobs/${jobId}/result`);
      expect(result).toMatchObject({ id: 'r1', pages: 3 });
      const details = await http<JobJSON>(`${url}/jobs/${jobId}`);
      expect(details).toMatchObject({
        id: jobId,
        name: 'reports:build',
        status: 'success',
        args: ['r1', 3],
        attempt: 1,
      });
      expect(typeof details.completedAt).toBe('string');

      // A direct call of the decorated method is a durable job too, and answers its result.
      const now = await http<Report>(`${url}/reports/r2/now`, {
        method: 'POST',
        body: { pages: 7 },
      });
      expect(now).toMatchObject({ id: 'r2', pages: 7 });
      const inspector = new Reseolio({ storage, workerConcurrency: 0 });
      const built = await inspector.listJobs({ name: 'reports:build' });
      expect(built.map((job) => job.args)).toEqual(
        expect.arrayContaining([
          ['r1', 3],
          ['r2', 7],
        ]),
      );
      await inspector.stop();
    });

    it('lets a running job finish on app.close() and leaves nothing running', async () => {
      const storage = tmpSqliteUrl();
      const { app, url } = await startApp(
        {
          imports: [ReseolioModule.forRoot({ storage, pollIntervalMs: 50, stopTimeoutMs: 5000 })],
          controllers: [ReportsController],
          providers: [ReportsService],
        },
        adapter,
      );
      const reports = app.get(ReportsService);

      const { jobId } = await http<{ jobId: string }>(`${url}/slow/s1`, {
        method: 'POST',
        body: { ms: 400 },
      });
      await waitFor(async () => (await http<JobJSON>(`${url}/jobs/${jobId}`)).status === 'running');
      expect(reports.finished).toEqual([]);
      await closeApp(app);
      expect(reports.finished).toEqual(['s1']);

      const inspector = new Reseolio({ storage, workerConcurrency: 0 });
      expect(await inspector.listJobs({ status: 'running' })).toEqual([]);
      const details = await inspector.getHandle(jobId).details();
      expect(details).toMatchObject({ status: 'success', result: 'done:s1', attempt: 1 });
      await inspector.stop();
    });
  },
);

describe.each<HttpAdapterName>(['express', 'fastify'])(
  'job routes with the %s adapter, as a Nest controller',
  (adapter) => {
    it('come from forRootAsync, sit under the global prefix, and answer 401 for UnauthorizedException', async () => {
      const storage = tmpSqliteUrl();
      const moduleRef = await Test.createTestingModule({
        imports: [
          ReseolioModule.forRootAsync({
            useFactory: async () => ({ storage, pollIntervalMs: 50 }),
            routes: {
              prefix: '/admin/jobs',
              authorize: (request: { headers: Record<string, string | undefined> }) => {
                const header = request.headers.authorization;
                if (header === undefined) throw new UnauthorizedException();
                return header === 'Bearer admin';
              },
            },
          }),
        ],
        controllers: [ReportsController],
        providers: [ReportsService],
      }).compile();
      const app = track(
        adapter === 'fastify'
          ? moduleRef.createNestApplication(new FastifyAdapter())
          : moduleRef.createNestApplication(),
      );
      app.setGlobalPrefix('api');
      await app.listen(0, '127.0.0.1');
      const url = await app.getUrl();

      const { jobId } = await http<{ jobId: string }>(`${url}/api/reports/r9`, {
        method: 'POST',
        body: { pages: 2 },
      });
      expect((await fetch(`${url}/api/admin/jobs/${jobId}`)).status).toBe(401);
      const forbidden = await fetch(`${url}/api/admin/jobs/${jobId}`, {
        headers: { authorization: 'Bearer guest' },
      });
      expect(forbidden.status).toBe(403);
      const result = await fetch(`${url}/api/admin/jobs/${jobId}/result?waitMs=5000`, {
        headers: { authorization: 'Bearer admin' },
      });
      expect(await result.json()).toMatchObject({
        jobId,
        status: 'success',
        result: { id: 'r9', pages: 2 },
      });
    });

    it('are not served unless asked for', async () => {
      const { url } = await startApp(
        { imports: [ReseolioModule.forRoot({ storage: 'memory:' })] },
        adapter,
      );
      expect((await fetch(`${url}/jobs`)).status).toBe(404);
    });
  },
);
