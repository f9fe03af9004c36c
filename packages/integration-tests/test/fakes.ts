/**
 * Stand-ins for the user's own code in the usage guide (`db`, `stripe`, `emailService`…).
 * They record every side effect so tests can count them, and can be told to fail.
 */

export interface Order {
  id: string;
  total: number;
  customerId: string;
  email: string;
  items: string[];
  address: string;
  paymentId?: string;
  inventoryReserved?: boolean;
  shippingLabelUrl?: string;
  status?: string;
}

/** Fails the next `times` calls of a fake service with `error`. */
export class FailurePlan {
  #remaining = 0;
  #error: () => Error = () => new Error('injected failure');

  failNext(times: number, error: () => Error = () => new Error('injected failure')): void {
    this.#remaining = times;
    this.#error = error;
  }

  maybeFail(): void {
    if (this.#remaining > 0) {
      this.#remaining -= 1;
      throw this.#error();
    }
  }
}

export function makeFakes() {
  let nextId = 1;
  const orders = new Map<string, Order>();
  const users = new Map<string, { id: string; email: string; onboardingComplete?: boolean }>();
  const reports = new Map<string, number[]>();
  const charges: { amount: number; customer: string; idempotencyKey: string }[] = [];
  const emails: unknown[] = [];
  const reserved: string[][] = [];
  const labels: string[] = [];
  const uploads: string[] = [];
  const buckets: string[] = [];
  const failures = {
    charge: new FailurePlan(),
    reserve: new FailurePlan(),
    label: new FailurePlan(),
  };

  const db = {
    users: {
      async create(body: { email: string }) {
        const user = { id: `u${nextId++}`, email: body.email };
        users.set(user.id, user);
        return user;
      },
      async findById(id: string) {
        return users.get(id)!;
      },
      async update(id: string, patch: object) {
        Object.assign(users.get(id)!, patch);
      },
    },
    orders: {
      async create(body: Omit<Order, 'id'>) {
        const order = { ...body, id: `o${nextId++}` };
        orders.set(order.id, order);
        return order;
      },
      async findById(id: string) {
        return { ...orders.get(id)! };
      },
      async findRecent() {
        return [...orders.values()].map((order) => ({ ...order }));
      },
      async update(id: string, patch: Partial<Order>) {
        Object.assign(orders.get(id)!, patch);
      },
    },
    reports: {
      async getData(id: string) {
        return reports.get(id) ?? [1, 2, 3];
      },
    },
    workspaces: {
      async create(body: { ownerId: string }) {
        return { id: `w-${body.ownerId}` };
      },
    },
  };

  const stripe = {
    charges: {
      async create(
        params: { amount: number; customer: string },
        options: { idempotencyKey: string },
      ) {
        failures.charge.maybeFail();
        charges.push({ ...params, idempotencyKey: options.idempotencyKey });
        return { id: `ch_${charges.length}` };
      },
    },
  };

  const emailService = {
    async send(...args: unknown[]) {
      emails.push(args.length === 1 ? args[0] : args);
    },
    async scheduleEmail(...args: unknown[]) {
      emails.push(['scheduled', ...args]);
    },
  };

  const inventory = {
    async reserve(items: string[]) {
      failures.reserve.maybeFail();
      reserved.push(items);
    },
  };

  const shippingService = {
    async createLabel(address: string) {
      failures.label.maybeFail();
      const url = `https://labels.example/${encodeURIComponent(address)}/${labels.length + 1}`;
      labels.push(url);
      return { url };
    },
  };

  const pdfGenerator = {
    async create(data: number[]) {
      return Buffer.from(`%PDF ${data.join(',')}`);
    },
  };

  const s3 = {
    async upload(key: string, _body: Buffer) {
      uploads.push(key);
      return `https://s3.example/${key}`;
    },
  };

  /** A partner's API: each call is recorded with its partner and when it was made. */
  const partnerCalls: { partnerId: string; orderId: string; at: number }[] = [];
  const partnerApi = {
    async sync(partnerId: string, orderId: string) {
      partnerCalls.push({ partnerId, orderId, at: Date.now() });
      return { synced: orderId };
    },
  };

  const storageService = {
    async createBucket(name: string) {
      buckets.push(name);
    },
    async setQuota(_name: string, _quota: string) {},
  };

  return {
    db,
    stripe,
    emailService,
    inventory,
    shippingService,
    pdfGenerator,
    s3,
    storageService,
    partnerApi,
    failures,
    records: { orders, users, charges, emails, reserved, labels, uploads, buckets, partnerCalls },
  };
}

/**
 * A minimal stand-in for an Express-style `app`: it keeps route handlers so a test can call
 * them with a request body and read what the handler responded.
 */
export function makeApp() {
  const routes = new Map<
    string,
    (req: { body: any; params: any }, res: FakeResponse) => Promise<void>
  >();
  const register =
    (method: string) => (path: string, handler: (req: any, res: FakeResponse) => Promise<void>) => {
      routes.set(`${method} ${path}`, handler);
    };
  return {
    post: register('POST'),
    get: register('GET'),
    async request(method: string, path: string, req: { body?: unknown; params?: unknown }) {
      const res = new FakeResponse();
      await routes.get(`${method} ${path}`)!(
        { body: req.body ?? {}, params: req.params ?? {} },
        res,
      );
      return res;
    },
  };
}

export class FakeResponse {
  body: unknown;
  status = 200;
  redirectedTo: string | undefined;
  sendStatus(status: number) {
    this.status = status;
  }
  json(body: unknown) {
    this.body = body;
  }
  redirect(url: string) {
    this.redirectedTo = url;
  }
}
