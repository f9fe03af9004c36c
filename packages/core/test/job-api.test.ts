import { describe, expect, it, vi } from 'vitest';
import { responseForError, runJobApi, STORAGE_UNAVAILABLE_MESSAGE } from '../src/http/index.ts';
import { ReseolioError, StorageConfigError, StorageError } from '../src/index.ts';
import { makeEngine } from './helpers.ts';

/** What an adapter throws: a subclass of StorageError with the driver's error as cause. */
class DriverStorageError extends StorageError {
  constructor(cause: Error & { code: string }) {
    super(`Example storage: getJob failed with ${cause.code}: ${cause.message}.`, {
      cause,
      operation: 'getJob',
      driverCode: cause.code,
    });
  }
}

const driverError = () =>
  Object.assign(new Error('database is locked at /srv/secret.db'), { code: 'SQLITE_BUSY' });

describe('StorageError', () => {
  it('carries the code RESEOLIO_STORAGE, the cause, the operation and the driver code', () => {
    const cause = driverError();
    const error = new DriverStorageError(cause);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toBeInstanceOf(ReseolioError);
    expect(error.name).toBe('DriverStorageError');
    expect(error.code).toBe('RESEOLIO_STORAGE');
    expect(error.cause).toBe(cause);
    expect(error.operation).toBe('getJob');
    expect(error.driverCode).toBe('SQLITE_BUSY');
    const bare = new StorageError('failed');
    expect([bare.operation, bare.driverCode, Object.hasOwn(bare, 'cause')]).toEqual([
      undefined,
      undefined,
      false,
    ]);
  });
});

describe('job routes and storage failures', () => {
  it('a StorageError (any subclass) is 503 RESEOLIO_STORAGE with a message that names nothing of the driver', () => {
    const engine = makeEngine();
    for (const error of [
      new StorageError('x', { cause: driverError() }),
      new DriverStorageError(driverError()),
    ]) {
      expect(responseForError(engine, error)).toEqual({
        status: 503,
        body: { error: { code: 'RESEOLIO_STORAGE', message: STORAGE_UNAVAILABLE_MESSAGE } },
      });
    }
    // A configuration problem is not the database being unavailable: the app's handler decides.
    expect(responseForError(engine, new StorageConfigError('bad URL'))).toBeUndefined();
  });

  it('runJobApi reports the StorageError it answered, and rethrows what it cannot answer', async () => {
    const engine = makeEngine();
    const heard = vi.fn();
    const failure = new DriverStorageError(driverError());
    const response = await runJobApi(
      engine,
      async () => {
        throw failure;
      },
      heard,
    );
    expect(response.status).toBe(503);
    expect(heard).toHaveBeenCalledExactlyOnceWith(failure);
    const bug = new TypeError('bug');
    await expect(
      runJobApi(
        engine,
        async () => {
          throw bug;
        },
        heard,
      ),
    ).rejects.toBe(bug);
    expect(heard).toHaveBeenCalledTimes(1);
  });
});
