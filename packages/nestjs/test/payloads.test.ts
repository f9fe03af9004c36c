import { Body, Controller, Injectable, Post } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { Durable, ReseolioModule } from '../src/index.ts';
import { startApp, tmpSqliteUrl } from './helpers.ts';

/** What a handler reports about the object it was given. */
function describeObject(value: Record<string, unknown>) {
  return {
    isAdmin: value.isAdmin ?? null,
    ownProto: Object.getOwnPropertyDescriptor(value, '__proto__')?.value ?? null,
    plainPrototype: Object.getPrototypeOf(value) === Object.prototype,
  };
}

@Injectable()
class UsersService {
  readonly seen: unknown[] = [];

  @Durable('users:update')
  async update(body: Record<string, unknown>) {
    this.seen.push(describeObject(body));
    return describeObject(body);
  }
}

@Controller()
class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post('users')
  update(@Body() body: Record<string, unknown>) {
    // A call of the decorated method is a durable job: it answers the handler's result.
    return this.users.update(body);
  }
}

describe('@reseolio/nestjs: a request body passed to a @Durable method', () => {
  it('reaches the handler with its own __proto__ key as data, never as a prototype (express adapter, SQLite file)', async () => {
    // The express adapter parses bodies with JSON.parse (body-parser), which keeps
    // `__proto__` as an own key. (The fastify adapter's parser refuses such a body with 400.)
    const { app, url } = await startApp({
      imports: [ReseolioModule.forRoot({ storage: tmpSqliteUrl(), pollIntervalMs: 50 })],
      controllers: [UsersController],
      providers: [UsersService],
    });
    const response = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"__proto__":{"isAdmin":true},"name":"x"}',
    });
    const expected = { isAdmin: null, ownProto: { isAdmin: true }, plainPrototype: true };
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual(expected);
    expect(app.get(UsersService).seen).toEqual([expected]);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});
