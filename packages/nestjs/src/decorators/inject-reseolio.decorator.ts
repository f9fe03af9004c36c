import { Inject } from '@nestjs/common';
import { RESEOLIO_ENGINE } from '../reseolio.constants.ts';

/** Injects the module's `Reseolio` engine: `constructor(@InjectReseolio() engine: Reseolio)`. */
export const InjectReseolio = (): PropertyDecorator & ParameterDecorator => Inject(RESEOLIO_ENGINE);
