import { Injectable } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import type { DurableMetadata } from './interfaces/durable-options.interface.ts';
import { DURABLE_METADATA } from './reseolio.constants.ts';

/** Reads what `@Durable()` stored on a method. */
@Injectable()
export class ReseolioMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getDurableMetadata(method: (...args: unknown[]) => unknown): DurableMetadata | undefined {
    return this.reflector.get<DurableMetadata | undefined>(DURABLE_METADATA, method);
  }

  /** Whether `@Get()`, `@Post()`… made the method a route handler. */
  isRouteHandler(method: (...args: unknown[]) => unknown): boolean {
    return this.reflector.get<string | undefined>(PATH_METADATA, method) !== undefined;
  }
}
