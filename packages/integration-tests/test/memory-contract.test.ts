import { runStorageContract } from '@reseolio/storage-contract';
import { MemoryStorage, type StorageAdapter } from 'reseolio';

// MemoryStorage lives in one process: "another instance on the same database" is a second
// reference to the same store whose close() leaves the store open, like a second connection.
runStorageContract({
  name: 'memory',
  setup: async () => {
    const storage = new MemoryStorage();
    await storage.init();
    const another = async (): Promise<StorageAdapter> => {
      const view: Record<string, unknown> = {
        kind: storage.kind,
        capabilities: storage.capabilities,
      };
      for (const method of Object.getOwnPropertyNames(MemoryStorage.prototype)) {
        const fn = (storage as unknown as Record<string, unknown>)[method];
        if (method !== 'constructor' && typeof fn === 'function') view[method] = fn.bind(storage);
      }
      view.close = async () => {};
      return view as unknown as StorageAdapter;
    };
    return { storage, openAnother: another, teardown: () => storage.close() };
  },
});
