import { randomBytes } from 'node:crypto';
import type { Shipment, ShopRepository } from '../db/repository.ts';
import { chance, type Faults, latency, TransientServiceError } from './faults.ts';

/** A fake carrier API: one label per order (it dedupes on the order id, as carriers do on a reference). */
export class Carrier {
  readonly #repo: ShopRepository;
  readonly #faults: Faults;

  constructor(repo: ShopRepository, faults: Faults) {
    this.#repo = repo;
    this.#faults = faults;
  }

  async createLabel(
    request: { orderId: string; address: string },
    signal?: AbortSignal,
  ): Promise<Shipment> {
    await latency(this.#faults, signal);
    if (chance(this.#faults.carrierFailureRate)) {
      throw new TransientServiceError('carrier', 'label service overloaded');
    }
    const tracking = `PX${randomBytes(5).toString('hex').toUpperCase()}`;
    return this.#repo.recordShipment({
      id: `shp_${randomBytes(6).toString('hex')}`,
      orderId: request.orderId,
      carrier: 'Parcelo',
      trackingNumber: tracking,
      labelUrl: `https://labels.parcelo.example/${tracking}.pdf`,
      createdAt: Date.now(),
    });
  }
}
