import { Controller, Get, Injectable, Module, Param, Post } from '@nestjs/common';
import { Durable, DurableHandles, InjectReseolio, ReseolioModule } from '@reseolio/nestjs';
import { type JobJSON, type Reseolio, toJobJSON } from 'reseolio';

export interface Receipt {
  orderId: string;
  chargeId: string;
}

@Injectable()
export class PaymentsService {
  // An explicit name survives class renames and minifiers; jobs are matched to code by it.
  @Durable('payments:charge', { maxAttempts: 5, timeoutMs: 10_000 })
  async charge(orderId: string): Promise<Receipt> {
    // Call your payment provider here; a throw is retried with backoff.
    return { orderId, chargeId: `ch_${orderId}` };
  }
}

@Controller('orders')
export class OrdersController {
  constructor(
    private readonly payments: PaymentsService,
    private readonly handles: DurableHandles,
    @InjectReseolio() private readonly reseolio: Reseolio,
  ) {}

  /** Starts the job and answers at once; the job runs even if this process dies. */
  @Post(':id/charge')
  async startCharge(@Param('id') orderId: string): Promise<{ jobId: string }> {
    // The idempotency key makes a retried request return the same job.
    const handle = await this.handles
      .of(this.payments, { idempotencyKey: `charge:${orderId}` })
      .charge(orderId);
    return { jobId: handle.jobId };
  }

  /** A direct call is durable too, and resolves the job's result. */
  @Post(':id/charge-and-wait')
  chargeAndWait(@Param('id') orderId: string): Promise<Receipt> {
    return this.payments.charge(orderId);
  }

  @Get('jobs/:jobId')
  async job(@Param('jobId') jobId: string): Promise<JobJSON> {
    return toJobJSON(await this.reseolio.getHandle(jobId).details());
  }
}

const ADMIN_TOKEN = process.env.ADMIN_TOKEN;

@Module({
  imports: [
    ReseolioModule.forRoot({
      storage: process.env.RESEOLIO_STORAGE ?? 'sqlite:./reseolio.db',
      workerConcurrency: 10,
      stopTimeoutMs: 10_000, // shutdown lets running jobs finish for up to 10 s
      // GET /jobs/:id, /jobs/:id/result, POST /jobs/:id/retry, /jobs/:id/cancel: admins only.
      // true → allowed, anything else → 403; throw UnauthorizedException for 401.
      routes: {
        authorize: (request) =>
          ADMIN_TOKEN !== undefined && request.headers.authorization === `Bearer ${ADMIN_TOKEN}`,
      },
    }),
  ],
  controllers: [OrdersController],
  providers: [PaymentsService],
})
export class AppModule {}
