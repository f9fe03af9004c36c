import { runStorageContract } from '@reseolio/storage-contract';
import type { StorageAdapter } from 'reseolio';
import { dropSchema, schemaFor, storageOn } from './helpers.ts';

runStorageContract({
  name: 'postgres',
  setup: async (testName) => {
    const schema = schemaFor('contract', testName);
    await dropSchema(schema); // leftovers of an interrupted run
    const opened: StorageAdapter[] = [];
    const open = async () => {
      const storage = storageOn(schema);
      opened.push(storage);
      await storage.init();
      return storage;
    };
    return {
      storage: await open(),
      openAnother: open,
      teardown: async () => {
        await Promise.all(opened.map((storage) => storage.close()));
        await dropSchema(schema);
      },
    };
  },
});
