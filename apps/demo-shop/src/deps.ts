import type { ShopRepository } from './db/repository.ts';
import type { Carrier } from './services/carrier.ts';
import type { Faults } from './services/faults.ts';
import type { ImageService } from './services/image-service.ts';
import type { Mailer } from './services/mailer.ts';
import type { PaymentGateway } from './services/payment-gateway.ts';

/** What the durable functions need, passed in explicitly (no module-level singletons). */
export interface ShopDeps {
  repo: ShopRepository;
  gateway: PaymentGateway;
  carrier: Carrier;
  mailer: Mailer;
  images: ImageService;
  /** Live fault settings; the page's switches mutate this object. */
  faults: Faults;
  delivery: {
    /** How long a delivery waits for the customer before confirming by itself. */
    autoConfirmMs: number;
  };
  webhook: {
    secret: string;
    /** Where order webhooks go; resolved per delivery because the port is known only once listening. */
    url(): string;
  };
}
