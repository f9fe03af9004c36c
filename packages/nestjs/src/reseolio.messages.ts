/** Every user-facing string of the module; each one says what to do next. */

export const DUPLICATE_DURABLE = (name: string, first: string, second: string) =>
  `@Durable() name "${name}" is used by both ${first} and ${second}. Names identify jobs across ` +
  `deploys, so each method needs its own: pass one explicitly, e.g. @Durable('${name}-2').`;

export const DURABLE_NAME_TAKEN = (name: string, method: string) =>
  `@Durable() name "${name}" of ${method} is already registered on the Reseolio engine (by code ` +
  'outside Nest, on a borrowed instance). Give the method another name.';

export const INVALID_DURABLE = (method: string, reason: string) =>
  `Cannot register ${method} as a durable function: ${reason} ` +
  `Give it an explicit name, e.g. @Durable('orders:charge').`;

export const INVALID_SCHEDULE = (method: string, reason: string) =>
  `Invalid schedule of @Durable() method ${method}: ${reason}`;

export const DUPLICATE_SCHEDULE = (id: string, first: string, second: string) =>
  `@Durable() schedule id "${id}" is used by both ${first} and ${second}: a schedule runs one ` +
  "function. Give one of them its own, e.g. schedule: { id: 'reports:daily-2', cron }.";

export const NON_STATIC_PROVIDER = (className: string) =>
  `Cannot register @Durable() methods of "${className}": it is request-scoped or transient, or ` +
  'depends on such a provider, and a job runs outside any request. Move the methods to a ' +
  'singleton (default-scoped) provider.';

export const NOT_A_DURABLE_PROVIDER = (what: string) =>
  `${what} has no registered @Durable() methods. Pass the injected provider instance ` +
  '(e.g. this.payments), after the application has initialized.';

export const NOT_A_DURABLE_METHOD = (className: string, method: string) =>
  `${className}.${method} is not a @Durable() method, so it has no job handle. Decorate it ` +
  'with @Durable() or call it directly.';

export const MISSING_ASYNC_FACTORY = () =>
  'ReseolioModule.forRootAsync() needs one of useFactory, useClass or useExisting.';

export const ROUTES_FROM_ASYNC_FACTORY = () =>
  'ReseolioModule.forRootAsync(): give routes beside useFactory/useClass/useExisting, e.g. ' +
  'forRootAsync({ useFactory, routes: { authorize } }), not in the options they return: Nest ' +
  'declares the routes before the factory runs.';

export const DURABLE_ROUTE_HANDLER = (method: string) =>
  `${method} is both a route handler and @Durable(): HTTP requests call it directly, not as a ` +
  'job (Nest binds routes before modules initialize). Move the durable work to a method the ' +
  'handler calls.';

export const SHUTDOWN_FAILED = 'Stopping the Reseolio engine failed';

export const METRICS_FROM_ASYNC_FACTORY = () =>
  'ReseolioModule.forRootAsync(): give metrics beside useFactory/useClass/useExisting, e.g. ' +
  'forRootAsync({ useFactory, metrics: true }), not in the options they return: Nest declares ' +
  'the metrics route before the factory runs.';

export const DASHBOARD_FROM_ASYNC_FACTORY = () =>
  'ReseolioModule.forRootAsync(): give dashboard beside useFactory/useClass/useExisting, e.g. ' +
  "forRootAsync({ useFactory, dashboard: '/dashboard' }), not in the options they return: Nest " +
  'declares the dashboard controller before the factory runs.';
