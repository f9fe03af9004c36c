import type { JobHandle } from 'reseolio';

/**
 * The job-starting view of a provider: each `Promise`-returning method `m(...args): Promise<R>`
 * becomes `m(...args): Promise<JobHandle<R>>`, resolved as soon as the job is stored. Other
 * members are `never`. Types cannot see which methods carry `@Durable()`: calling a method
 * that does not throws `NotDurableError`.
 */
export type DurableHandlesOf<T> = {
  readonly [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => Promise<JobHandle<R>>
    : never;
};
